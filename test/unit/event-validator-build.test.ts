/**
 * The build step that generates the event validator (lambdas/event-validator-build.ts):
 * the module it writes depends on nothing, is what the schema gives today, and keeps
 * Ajv's semantics where the generated code needed help (string lengths in code points).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../lambdas/common/decode-event.ts';
import { EVENT_VALIDATOR_FILE, eventValidatorSource } from '../../lambdas/event-validator-build.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';

const START = Date.UTC(2026, 10, 23, 12);
const event = () => new ShopperSimulator({ seed: 3, startTimeMs: START, eventsPerSecond: 50 }).nextRecord().event!;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('the generated event validator', () => {
  it('imports and requires nothing, so a bundle carries no Ajv', () => {
    const source = eventValidatorSource();
    expect(source).not.toMatch(/\brequire\(|^import /m);
    expect(source).toMatch(/^export const validate = /m);
  });

  it('on disk is what the schema gives now (the test setup regenerates it)', () => {
    expect(readFileSync(EVENT_VALIDATOR_FILE, 'utf8')).toBe(eventValidatorSource());
  });

  it.each([
    ['32 emoji (64 UTF-16 units) fit a 32-character limit', '😀'.repeat(32), true],
    ['33 emoji do not', '😀'.repeat(33), false],
  ])('counts string lengths in code points, as Ajv does: %s', (_name, os, accepted) => {
    const result = decodeEvent(encode({ ...event(), os }), START + 60_000);
    expect(result.ok).toBe(accepted);
    if (!result.ok) expect(result.reason).toBe('os must NOT have more than 32 characters');
  });
});
