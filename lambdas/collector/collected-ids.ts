/**
 * Ids for events that arrive from trackers, which follow their own rules for ids.
 *
 * The lake keeps one row per `event_id`, so an event a tracker sends twice (from its
 * retry queue, after a lost response) must get the same id both times: every id here
 * is a pure function of what the tracker sent.
 */
import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_AT_END = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A UUID (version 5 layout, SHA-1 of a fixed project namespace and the name): the same name gives the same id. */
export function uuidFromName(name: string): string {
  const hash = createHash('sha1').update('clickstream-collector\0').update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The event id of a tracker's message id: the UUID itself when the message id is one or
 * ends in one (analytics-next sends `ajs-next-<ms>-<uuid>`), otherwise one derived from it.
 * `scope` keeps two sources' equal message ids apart.
 */
export function eventIdOf(messageId: string, scope: string): string {
  const lower = messageId.toLowerCase();
  if (UUID.test(lower)) return lower;
  const embedded = UUID_AT_END.exec(lower);
  return embedded ? embedded[1]! : uuidFromName(`${scope}\0${messageId}`);
}

/** The id of line `index` of an event that became several rows (an order's products). */
export function lineEventId(eventId: string, index: number, lines: number): string {
  return lines === 1 ? eventId : uuidFromName(`${eventId}\0line ${index}`);
}

/**
 * An id the schema accepts (`[A-Za-z0-9_-]{1,64}`): kept as it is when it already is one,
 * otherwise a stable opaque hash (`h_` + 22 base64url characters). E-mail addresses as user
 * ids and SKUs with slashes or spaces are common; hashing keeps them countable without
 * storing the raw value.
 */
export function safeId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string' || value.length === 0) return null;
  if (SAFE_ID.test(value)) return value;
  return `h_${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}
