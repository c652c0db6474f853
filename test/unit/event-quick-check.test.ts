/**
 * quickCheck (lambdas/event-quick-check.ts) may answer "yes" only where Ajv's validator does:
 * every rejection, with its reason, still comes from Ajv. Held here over the simulator's
 * events, every field set to values at and past each of its limits, and the hand-written
 * pattern tests against the regular expressions they stand for.
 */
import { describe, expect, it } from 'vitest';
import { quickCheck, quickPatterns, validate } from '../../lambdas/common/generated/event-validator.js';
import { publishedJsonSchema } from '../../lambdas/common/event-schema.ts';
import { PATTERN_TESTS, quickCheckSource } from '../../lambdas/event-quick-check.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';

const START = Date.UTC(2026, 10, 23, 12);
const SAMPLE = (() => {
  const sim = new ShopperSimulator({ seed: 11, startTimeMs: START, eventsPerSecond: 200 });
  return Array.from({ length: 3_000 }, () => sim.nextRecord().event!);
})();
/** One event of each type, as schema version 2 and as version 1. */
const BASES = [...new Map(SAMPLE.map((e) => [e.event_type, e])).values()].flatMap((e) => [e, { ...e, schema_version: 1 }]);

const emoji = (n: number) => '😀'.repeat(n);
/** Values at and past every limit the schema has, and of every JSON type. */
const PROBES: unknown[] = [
  undefined, null, true, 0, -0, -1, 1, 1.5, 12, 13, 120, 121, 999, 1000, 1001, 946684799999, 946684800000, 1e6, 1e6 + 0.01, 1e8, 1e8 + 1, 1e300, -1e-9,
  '', 'a', 'ab', 'US', 'us', 'USA', 'U', 'female', 'FEMALE', 'bot', 'direct', 'purchase', 'page_view',
  'http://x', 'https://x', 'ftp://x', ' https://x', 'https:/', 'x'.repeat(32), 'x'.repeat(33), 'x'.repeat(64), 'x'.repeat(65),
  'x'.repeat(128), 'x'.repeat(129), `https://${'x'.repeat(2040)}`, `https://${'x'.repeat(2041)}`, emoji(1), emoji(32), emoji(33),
  '4b674f47-7afd-44e7-aae3-46939c9b3ac8', '4B674F47-7AFD-44E7-AAE3-46939C9B3AC8', '4b674f47-7afd-44e7-aae3-46939c9b3ac', '4b674f47x7afd-44e7-aae3-46939c9b3ac8',
  'u_1', 'a-b_c', 'a b', 'é', 'a\n', [], {}, ['x'],
];

describe('quickCheck', () => {
  it('says yes to the events the simulator produces, so the consumer takes the quick path', () => {
    expect(SAMPLE.filter((e) => !quickCheck(e))).toEqual([]);
  });

  it('never says yes where the full validator says no, field by field at every limit', () => {
    const wrongYes: string[] = [];
    let probed = 0;
    for (const base of BASES) {
      for (const field of [...Object.keys(publishedJsonSchema().properties as object), 'unknown_field', '__proto__']) {
        for (const probe of PROBES) {
          const event: Record<string, unknown> = { ...base };
          if (probe === undefined) delete event[field];
          else Object.defineProperty(event, field, { value: probe, enumerable: true, configurable: true, writable: true });
          probed++;
          if (quickCheck(event) && !validate(event)) wrongYes.push(`${base.event_type} v${base.schema_version} ${field}=${JSON.stringify(probe)}`);
        }
      }
    }
    expect(probed).toBeGreaterThan(10_000);
    expect(wrongYes).toEqual([]);
  });

  it.each([null, 1, 'x', [], [{}]])('says no to %j, which is not an event', (value) => {
    expect(quickCheck(value)).toBe(false);
  });

  it('fails the build on a keyword it does not know, instead of guessing', () => {
    const schema = publishedJsonSchema();
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(() => quickCheckSource({ ...schema, properties: { ...properties, os: { ...properties.os, format: 'uri' } } })).toThrow(/cannot read property os's format/);
  });
});

describe('the hand-written pattern tests', () => {
  // Mutations of valid strings at every position, with characters near each class's edges.
  const EDGE = ['', '-', '_', '/', '0', '9', ':', '@', 'A', 'Z', '[', '`', 'a', 'f', 'g', 'z', '{', '\n', ' ', 'é', '\u0660', '\ud83d', '\ude00', '😀'];
  const mutations = (valid: string) => {
    const out = new Set([valid, valid + valid, valid.slice(1), valid.slice(0, -1)]);
    for (let i = 0; i <= valid.length; i++) for (const c of EDGE) out.add(valid.slice(0, i) + c + valid.slice(i + 1)).add(valid.slice(0, i) + c + valid.slice(i));
    return [...out];
  };
  const VALID: Record<string, string[]> = {
    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': ['4b674f47-7afd-44e7-aae3-46939c9b3ac8', '00000000-0000-0000-0000-000000000000'],
    '^[A-Za-z0-9_-]{1,64}$': ['u_466444934', 'x', 'x'.repeat(64), 'AZaz09_-'],
    '^https?://': ['http://', 'https://shop.example.com/'],
    '^[A-Z]{2}$': ['US', 'AZ'],
  };

  it.each(Object.keys(PATTERN_TESTS))('%s answers as the regular expression does', (pattern) => {
    const test = quickPatterns[pattern]!;
    const regex = new RegExp(pattern, 'u');
    const inputs = VALID[pattern]!.flatMap(mutations);
    expect(inputs.filter((s) => test(s) !== regex.test(s))).toEqual([]);
    expect(inputs.filter((s) => test(s)).length).toBeGreaterThan(1);
  });

  it('covers every pattern the schema has, so none is left to a regular expression', () => {
    const patterns = Object.values(publishedJsonSchema().properties as Record<string, { pattern?: string }>).flatMap((p) => (p.pattern ? [p.pattern] : []));
    expect(patterns.filter((p) => !(p in PATTERN_TESTS))).toEqual([]);
    expect(Object.keys(quickPatterns).sort()).toEqual(Object.keys(PATTERN_TESTS).sort());
    expect(Object.keys(VALID).sort()).toEqual(Object.keys(PATTERN_TESTS).sort());
  });
});
