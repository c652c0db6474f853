/**
 * Test-only defects: records a real producer bug or a hostile client could send.
 * Each kind exercises one rejection path of the consumer's decoder.
 */
import type { ClickstreamEvent } from '../common/event-schema.ts';
// From the dependency-free module, not decode-event.ts, which would bundle Ajv into the simulator.
import { MAX_EVENT_BYTES } from '../common/event-enums.ts';

export const MALFORMED_KINDS = [
  'invalid_json',
  'missing_field',
  'wrong_type',
  'unknown_event_type',
  'negative_price',
  'future_time',
  'oversized',
  'invalid_utf8',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** Turns a valid event into a defective record of the given kind. */
export function malformedRecord(event: ClickstreamEvent, kind: MalformedKind): Buffer {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  switch (kind) {
    case 'invalid_json': {
      const text = JSON.stringify(event);
      return Buffer.from(text.slice(0, Math.floor(text.length / 2)));
    }
    case 'missing_field': {
      const { user_id: _dropped, ...rest } = event;
      return json(rest);
    }
    case 'wrong_type':
      return json({ ...event, event_time: new Date(event.event_time).toISOString() });
    case 'unknown_event_type':
      return json({ ...event, event_type: 'wishlist_add' });
    case 'negative_price':
      return json({
        ...event,
        event_type: 'product_view',
        product_id: event.product_id ?? 'p_00000',
        product_category: event.product_category ?? 'books',
        product_brand: event.product_brand ?? 'Folio',
        product_price: -12.5,
      });
    case 'future_time':
      // A fixed far-future instant (2100-01-01), so the defect holds whatever clock the test runs on.
      return json({ ...event, event_time: 4_102_444_800_000 });
    case 'oversized':
      return json({ ...event, page_url: `${event.page_url}?q=${'x'.repeat(MAX_EVENT_BYTES)}` });
    case 'invalid_utf8': {
      // A lone continuation byte inside a string value: legal JSON structure, illegal UTF-8.
      const [head, tail] = JSON.stringify(event).split('"browser":"');
      return Buffer.concat([Buffer.from(`${head}"browser":"`), Buffer.from([0xc3, 0x28]), Buffer.from(tail ?? '"}')]);
    }
  }
}
