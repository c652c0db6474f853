import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../lambdas/common/decode-event.ts';
import { MALFORMED_KINDS, malformedRecord, type MalformedKind } from '../../lambdas/simulator/malformed.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import type { ClickstreamEvent } from '../../lambdas/common/event-schema.ts';

const START = Date.UTC(2026, 10, 23, 12);
const NOW = START + 3_600_000;

function events(count: number): ClickstreamEvent[] {
  const sim = new ShopperSimulator({ seed: 7, startTimeMs: START, eventsPerSecond: 200 });
  return Array.from({ length: count }, () => sim.nextRecord().event!);
}

const SAMPLE = events(20_000);
const purchase = () => SAMPLE.find((e) => e.event_type === 'purchase')!;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('decodeEvent', () => {
  it('accepts every event type the simulator produces', () => {
    // Prepare
    const sample = SAMPLE;
    // Act
    const rejected = sample.map((e) => decodeEvent(encode(e), NOW)).filter((r) => !r.ok);
    // Assess
    expect(rejected).toEqual([]);
    expect(new Set(sample.map((e) => e.event_type)).size).toBe(6);
  });

  const expectedReason: Record<MalformedKind, RegExp> = {
    invalid_json: /not valid JSON/,
    missing_field: /user_id is required/,
    wrong_type: /event_time must be integer/,
    unknown_event_type: /event_type must be equal to one of the allowed values \(page_view, .*purchase\)/,
    negative_price: /product_price must be >= 0/,
    future_time: /event_time is more than 15 minutes in the future/,
    oversized: /over the 32768-byte limit/,
    invalid_utf8: /not valid UTF-8/,
  };

  it.each(MALFORMED_KINDS)('rejects a %s record with a reason that names the problem', (kind) => {
    const result = decodeEvent(malformedRecord(purchase(), kind), NOW);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(expectedReason[kind]);
  });

  it.each([
    ['a purchase without order_id', { order_id: undefined }, /order_id is required/],
    ['a purchase with a null revenue', { revenue: null }, /revenue must not be null for this event_type/],
    ['an add_to_cart without quantity', { event_type: 'add_to_cart', quantity: undefined }, /quantity is required/],
    ['a product view without a product', { event_type: 'product_view', product_id: undefined }, /product_id is required/],
    ['an unknown field', { coupon: 'X' }, /unknown field coupon/],
    ['an event time in seconds', { event_time: 1_763_900_000 }, /event_time must be >= 946684800000/],
    ['a non-UUID event_id', { event_id: 'abc' }, /event_id must match pattern/],
    ['a lower-case country', { user_country: 'us' }, /user_country must match pattern/],
    ['a schema version from the future', { schema_version: 3 }, /schema_version must be equal to one of the allowed values \(1, 2\)/],
    ['a v1 event without an age', { schema_version: 1, user_age: null }, /user_age must not be null for this event_type/],
    ['a v1 event without a device', { schema_version: 1, device_type: undefined }, /device_type is required/],
    ['a v1 purchase without a brand', { schema_version: 1, product_brand: null }, /product_brand must not be null/],
    ['a v2 purchase without a price', { product_price: null }, /product_price must not be null/],
    ['a v2 event with an unknown gender', { user_gender: 'other' }, /user_gender must be equal to one of the allowed values/],
    ['a fractional quantity', { quantity: 1.5 }, /quantity must be integer/],
    ['an unknown device', { device_type: 'watch' }, /device_type must be equal to one of the allowed values/],
    ['a page url that is not http', { page_url: 'javascript:alert(1)' }, /page_url must match pattern/],
  ])('rejects %s', (_name, change, reason) => {
    const result = decodeEvent(encode({ ...purchase(), ...change }), NOW);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('accepts a v1 event as it was written before v2', () => {
    expect(decodeEvent(encode({ ...purchase(), schema_version: 1 }), NOW).ok).toBe(true);
  });

  it('accepts a v2 event that leaves out what a real site cannot know, and a bot', () => {
    const unknowns = { user_age: null, user_gender: null, user_country: null, device_type: null, os: null, browser: null, product_category: null };
    const { product_brand: _, ...withoutBrand } = purchase();
    expect(decodeEvent(encode({ ...withoutBrand, ...unknowns }), NOW)).toMatchObject({ ok: true });
    const { user_age: _a, user_gender: _g, user_country: _c, ...absent } = purchase();
    expect(decodeEvent(encode(absent), NOW).ok).toBe(true);
    expect(decodeEvent(encode({ ...purchase(), device_type: 'bot' }), NOW).ok).toBe(true);
  });

  it('rejects JSON that is not an object', () => {
    for (const value of ['null', '42', '"x"', '[]']) {
      const result = decodeEvent(Buffer.from(value), NOW);
      expect(result.ok, value).toBe(false);
    }
  });
});
