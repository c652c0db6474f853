/**
 * The build step that generates code from the event definition (lambdas/generate-code.ts):
 * the validator depends on nothing, is what the schema gives today, and keeps Ajv's
 * semantics where the generated code needed help (string lengths in code points); the
 * row-to-columns function follows LAKE_COLUMNS.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../lambdas/common/decode-event.ts';
import { LAKE_COLUMNS } from '../../lambdas/common/lake-columns.ts';
import { lakeRowColumns } from '../../lambdas/common/generated/lake-row-columns.js';
import type { LakeRow } from '../../lambdas/consumer/plan-batch.ts';
import { EVENT_VALIDATOR_FILE, eventValidatorSource, LAKE_ROW_COLUMNS_FILE, lakeRowColumnsSource } from '../../lambdas/generate-code.ts';
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
    expect(readFileSync(LAKE_ROW_COLUMNS_FILE, 'utf8')).toBe(lakeRowColumnsSource());
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

describe('the generated row-to-columns function', () => {
  it('gives one array per lake column, in LAKE_COLUMNS order, a missing field as null', () => {
    const row = { ...event(), source_topic: 't', source_partition: 3, source_offset: '42', ingest_time: START } as LakeRow;
    const columns = lakeRowColumns([row, { ...row, referrer: null, product_id: undefined }]);
    expect(columns).toHaveLength(LAKE_COLUMNS.length);
    LAKE_COLUMNS.forEach((c, j) => expect(columns[j]![0], c.name).toEqual((row as unknown as Record<string, unknown>)[c.name] ?? null));
    const at = (name: string) => columns[LAKE_COLUMNS.findIndex((c) => c.name === name)]!;
    expect(at('referrer')[1]).toBeNull();
    expect(at('product_id')[1]).toBeNull();
  });
});
