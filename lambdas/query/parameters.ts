/**
 * Query parameters: parsed from a query string, checked against the schema's
 * enums and strict patterns, and only then used. Nothing from the request reaches
 * SQL unvalidated.
 */
import { DEVICE_TYPES, TRAFFIC_SOURCES, type DeviceType, type TrafficSource } from '../common/event-enums.ts';

export const MAX_RANGE_DAYS = 31;
const DAY_MS = 86_400_000;

export interface QueryParameters {
  /** Inclusive start, ms since the epoch. */
  readonly fromMs: number;
  /** Exclusive end, ms since the epoch. */
  readonly toMs: number;
  readonly device?: DeviceType;
  readonly source?: TrafficSource;
  readonly country?: string;
}

export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

const ALLOWED = new Set(['from', 'to', 'device', 'source', 'country']);

/**
 * `from` and `to` are ISO 8601 instants or milliseconds since the epoch; without
 * them the range is the last hour before `nowMs`.
 */
export function parseParameters(raw: Readonly<Record<string, string | undefined>>, nowMs: number): QueryParameters {
  for (const key of Object.keys(raw)) {
    if (!ALLOWED.has(key)) throw new BadRequestError(`unknown parameter "${key}": use from, to, device, source or country`);
  }
  const toMs = raw.to === undefined ? nowMs : instant('to', raw.to);
  const fromMs = raw.from === undefined ? toMs - 3_600_000 : instant('from', raw.from);
  if (fromMs >= toMs) throw new BadRequestError('from must be before to');
  if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) throw new BadRequestError(`the time range is longer than ${MAX_RANGE_DAYS} days: narrow from/to`);
  if (toMs > nowMs + DAY_MS) throw new BadRequestError('to is more than a day in the future');
  return {
    fromMs,
    toMs,
    ...(raw.device !== undefined && { device: oneOf('device', raw.device, DEVICE_TYPES) }),
    ...(raw.source !== undefined && { source: oneOf('source', raw.source, TRAFFIC_SOURCES) }),
    ...(raw.country !== undefined && { country: country(raw.country) }),
  };
}

function instant(name: string, value: string): number {
  const ms = /^\d{1,15}$/.test(value)
    ? Number(value)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
      ? Date.parse(value)
      : NaN;
  if (!Number.isFinite(ms) || ms < Date.UTC(2000, 0, 1) || !isCalendarDate(value)) {
    throw new BadRequestError(`${name} must be an ISO 8601 instant with a time zone (2026-11-23T10:00:00Z) or milliseconds since the epoch, got "${value.slice(0, 40)}"`);
  }
  return ms;
}

/** Date.parse rolls an impossible day over (2026-02-31 becomes 2026-03-03): the day must exist in its month. */
function isCalendarDate(value: string): boolean {
  const date = /^(\d{4})-(\d{2})-(\d{2})T/.exec(value);
  if (!date) return true; // milliseconds since the epoch
  const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new BadRequestError(`${name} must be one of ${allowed.join(', ')}, got "${value.slice(0, 40)}"`);
  return value as T;
}

function country(value: string): string {
  if (!/^[A-Z]{2}$/.test(value)) throw new BadRequestError(`country must be a two-letter ISO code in capitals, got "${value.slice(0, 40)}"`);
  return value;
}
