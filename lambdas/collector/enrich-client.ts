// Interface only until the enrichment module lands (branch collector-enrich replaces this file).
import type { DeviceType } from '../common/event-enums.ts';

export interface ClientFacts {
  device_type: DeviceType | null;
  os: string | null;
  browser: string | null;
  user_country: string | null;
}
export interface ClientHints {
  userAgent?: string;
  ip?: string;
  anonymousIp?: boolean;
}
export interface ClientEnricher {
  facts(hints: ClientHints): ClientFacts;
}

/** Until the enrichment lands: nothing is known. */
export function loadClientEnricher(): Promise<ClientEnricher> {
  return Promise.resolve({ facts: () => ({ device_type: null, os: null, browser: null, user_country: null }) });
}
