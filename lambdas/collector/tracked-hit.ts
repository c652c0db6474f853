/**
 * What the collector reads out of any tracker's message (a "hit"), before it becomes
 * rows of the event schema. The Segment and Snowplow readers produce hits; `eventsOfHit`
 * turns one into events the same way for both, so the rules (ids per line, revenue,
 * channel, limits) are written once.
 */
import type { EventType, TrafficSource } from '../common/event-enums.ts';
import type { ClientFacts } from './enrich-client.ts';
import { lineEventId, safeId } from './collected-ids.ts';
import { trafficSourceOf, type Campaign } from './traffic-source.ts';
import { SessionChannels } from './session-channels.ts';

export interface ProductLine {
  readonly id: unknown;
  readonly category: unknown;
  readonly brand: unknown;
  readonly price: unknown;
  readonly quantity: unknown;
}

export interface TrackedHit {
  readonly eventType: EventType;
  /** A UUID, stable across the tracker's re-sends of the message. */
  readonly eventId: string;
  readonly eventTimeMs: number;
  readonly userId: unknown;
  readonly sessionId: unknown;
  readonly pageUrl: unknown;
  readonly referrer: unknown;
  readonly campaign: Campaign;
  /** One row per line; none for page views and checkouts. */
  readonly products: readonly ProductLine[];
  readonly orderId?: unknown;
  /** The shopper's User-Agent and address when the message names them (a server forwarding a browser's events). */
  readonly client?: { readonly userAgent?: string; readonly ip?: string };
}

/** A User-Agent or address a message carries, when it is a non-empty string. */
export function clientOf(userAgent: unknown, ip: unknown): TrackedHit['client'] {
  return { ...(typeof userAgent === 'string' && userAgent !== '' && { userAgent }), ...(typeof ip === 'string' && ip !== '' && { ip }) };
}

/** A mapped event: plain JSON, checked against the schema before it is sent. */
export type EventDraft = Record<string, unknown>;

const MAX_URL = 2048;
const MAX_TEXT = 64;

/** One event per product line (at least one), with the client's facts. */
export function eventsOfHit(hit: TrackedHit, facts: ClientFacts, channels: SessionChannels): EventDraft[] {
  const sessionId = safeId(hit.sessionId);
  const pageUrl = url(hit.pageUrl);
  const referrer = url(hit.referrer) ?? null;
  const campaign = text(hit.campaign.name, 128);
  const own = pageUrl ? trafficSourceOf(pageUrl, referrer, hit.campaign) : undefined;
  const channel = channels.channelOf(sessionId, own, campaign, hit.eventTimeMs);
  const common = {
    schema_version: 2,
    event_type: hit.eventType,
    event_time: Math.round(hit.eventTimeMs),
    user_id: safeId(hit.userId),
    session_id: sessionId,
    page_url: pageUrl,
    referrer,
    traffic_source: channel.source satisfies TrafficSource,
    campaign: channel.campaign,
    user_age: null,
    user_gender: null,
    ...facts,
  };
  const lines: (ProductLine | undefined)[] = hit.products.length > 0 ? [...hit.products] : [undefined];
  return lines.map((line, index) => ({
    event_id: lineEventId(hit.eventId, index, lines.length),
    ...common,
    ...(line && productFields(hit.eventType, line, hit.orderId)),
  }));
}

function productFields(eventType: EventType, line: ProductLine, orderId: unknown): EventDraft {
  const price = number(line.price);
  // Trackers leave the quantity out for "one": Segment's spec and Snowplow's plugin both do.
  const quantity = eventType === 'product_view' ? null : (integer(line.quantity) ?? 1);
  return {
    product_id: safeId(line.id),
    product_category: text(line.category, MAX_TEXT),
    product_brand: text(line.brand, MAX_TEXT),
    product_price: price,
    quantity,
    ...(eventType === 'purchase' && {
      order_id: safeId(orderId),
      revenue: price === null || quantity === null ? null : Math.round(price * quantity * 100) / 100,
    }),
  };
}

/** An http(s) URL without its fragment, cut to the schema's length; anything else is no URL. */
function url(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return undefined;
  const hash = value.indexOf('#');
  return (hash < 0 ? value : value.slice(0, hash)).slice(0, MAX_URL);
}

function text(value: unknown, max: number): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed.length === 0 ? null : [...trimmed].slice(0, max).join('');
}

/** Trackers send numbers as numbers (Segment) or as strings (Snowplow's POST): both are read. */
function number(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

function integer(value: unknown): number | null {
  const n = number(value);
  return n !== null && Number.isInteger(n) ? n : null;
}
