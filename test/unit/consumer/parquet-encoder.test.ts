/**
 * The consumer's Parquet, read back by DuckDB: every value of every column exact
 * (nulls and instants included), statistics where readers use them, and the
 * never-repeating columns written without a dictionary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { LAKE_COLUMNS } from '../../../lambdas/common/lake-columns.ts';
import { encodeParquet } from '../../../lambdas/consumer/parquet-encoder.ts';
import { planBatch, type LakeRow } from '../../../lambdas/consumer/plan-batch.ts';
import { ShopperSimulator } from '../../../lambdas/simulator/simulator.ts';

const START = Date.UTC(2026, 10, 23, 12);
const dir = mkdtempSync(join(tmpdir(), 'parquet-encoder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rows(count: number): LakeRow[] {
  const sim = new ShopperSimulator({ seed: 5, startTimeMs: START, eventsPerSecond: 100, dailyCurve: false, warmStart: true });
  const batch = Array.from({ length: count }, (_, i) => ({ topic: 'clickstream.events', partition: 2, offset: String(9_000_000_000 + i), value: sim.nextRecord().value }));
  return planBatch(batch, START + 3_600_000).flatMap((p) => p.events.flatMap((o) => [...o.rows]));
}

describe('encodeParquet', () => {
  const written = rows(2_000);

  it('writes every column of every row as DuckDB reads it back', async () => {
    const file = join(dir, 'rows.parquet');
    writeFileSync(file, await encodeParquet(written));
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT ${LAKE_COLUMNS.map((c) => (c.type === 'timestamp_ms' ? `epoch_ms(${c.name}) AS ${c.name}` : c.name)).join(', ')} FROM read_parquet('${file}') ORDER BY source_offset`,
      );
      const read = reader.getRowObjectsJson();
      expect(read).toHaveLength(written.length);
      const expected = [...written]
        .sort((a, b) => a.source_offset.localeCompare(b.source_offset))
        .map((r) => Object.fromEntries(LAKE_COLUMNS.map((c) => [c.name, (r as unknown as Record<string, unknown>)[c.name] ?? null])));
      // DuckDB's JSON form gives 64-bit integers as strings.
      const normalized = read.map((r) => ({ ...r, event_time: Number(r.event_time), ingest_time: Number(r.ingest_time) }));
      expect(normalized).toEqual(expected);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  it('keeps the instants\' statistics, and writes event_id and source_offset without a dictionary', async () => {
    const buffer = await encodeParquet(written);
    const metadata = parquetMetadata(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer);
    const column = (name: string) => metadata.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === name)!.meta_data!;
    const times = written.map((r) => r.event_time);
    expect(column('event_time').statistics?.max_value).toEqual(new Date(Math.max(...times)));
    expect(column('event_time').statistics?.min_value).toEqual(new Date(Math.min(...times)));
    expect(column('ingest_time').statistics?.max_value).toEqual(new Date(START + 3_600_000));
    for (const name of ['event_id', 'source_offset']) expect(column(name).encodings).not.toContain('RLE_DICTIONARY');
    expect(column('event_type').encodings).toContain('RLE_DICTIONARY');
  });
});
