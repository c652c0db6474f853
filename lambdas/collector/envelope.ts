/** What every tracker reader is given about the request, how it says the request is malformed, and the JSON checks all readers share. */

export interface Envelope {
  /** When the collector received the request, ms since the epoch: the clock events are corrected to. */
  readonly receivedAtMs: number;
  /** The sender's key (Segment write key, Snowplow app id), kept apart in derived ids; '' when none. */
  readonly sourceKey: string;
}

/** The request as a whole cannot be read (not JSON, wrong shape, bad encoding): a 400 naming what is wrong. */
export class EnvelopeError extends Error {}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A time as trackers send it: ms as a number or a numeric string (Snowplow), or an ISO date (Segment). */
export function timeMs(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value === '') return NaN;
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

/**
 * The event's time on the collector's clock: the tracker's time shifted by how far the
 * tracker's clock was off when it sent (its send time against our receipt), so a shopper's
 * wrong clock does not move their events. Never later than the receipt.
 */
export function correctedTime(eventTime: unknown, sentTime: unknown, receivedAtMs: number): number {
  const at = timeMs(eventTime);
  const sent = timeMs(sentTime);
  if (Number.isNaN(at)) return receivedAtMs;
  const corrected = Number.isNaN(sent) ? at : receivedAtMs - Math.max(0, sent - at);
  return Math.min(corrected, receivedAtMs);
}

/** A JSON object (not null, not an array): what every reader checks before reading fields. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `key`, or an empty one: optional nested objects read without checks at every step. */
export function objectAt(value: Record<string, unknown>, key: string): Record<string, unknown> {
  const inner = value[key];
  return isObject(inner) ? inner : {};
}
