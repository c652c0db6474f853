/**
 * Bytes off the stream to a valid event, or the reason it is not one. Decoding
 * and validation are one step so every caller quarantines the same way.
 */
import type { ClickstreamEvent } from './event-schema.ts';
import { MAX_EVENT_BYTES, MAX_FUTURE_SKEW_MS, type RejectionCode } from './event-enums.ts';
import { validateEvent } from './validate-event.ts';

export type DecodeResult = { ok: true; event: ClickstreamEvent } | { ok: false; code: RejectionCode; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeEvent(bytes: Uint8Array, nowMs: number): DecodeResult {
  if (bytes.byteLength > MAX_EVENT_BYTES) {
    return { ok: false, code: 'too_large', reason: `record is ${bytes.byteLength} bytes, over the ${MAX_EVENT_BYTES}-byte limit` };
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, code: 'invalid_utf8', reason: 'record is not valid UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: 'invalid_json', reason: `record is not valid JSON: ${(error as Error).message}` };
  }
  const result = validateEvent(value);
  if (result.ok && result.event.event_time > nowMs + MAX_FUTURE_SKEW_MS) {
    return { ok: false, code: 'future_event_time', reason: `event_time is more than ${MAX_FUTURE_SKEW_MS / 60_000} minutes in the future` };
  }
  return result.ok ? result : { ok: false, code: 'invalid_event', reason: result.reason };
}
