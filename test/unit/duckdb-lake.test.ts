/**
 * The local engine's de-duplicated table, against real DuckDB over real Parquet
 * files: it must hold exactly one row per event_id present in the files after
 * any sequence of new, replaced and removed files.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickstreamEvent } from '../../lambdas/common/event-schema.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { QueryApi } from '../../lambdas/query/query-api.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { DuckDbLake, hourOfKey } from '../../local/lake/duckdb-lake.ts';

const START = Date.UTC(2026, 10, 23, 10, 0);
const HOUR = 'events/year=2026/month=11/day=23/hour=10';
// 150 events two a second from 10:00: all in one hour partition.
const sim = new ShopperSimulator({ seed: 5, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: false });
const EVENTS: ClickstreamEvent[] = Array.from({ length: 150 }, () => sim.nextRecord().event!);
const ids = (from: number, to: number) => EVENTS.slice(from, to).map((e) => e.event_id);

let dir: string;
let touches = 0;

/** Writes the events as a lake file; shiftMs moves their times (a file's rows lie in its key's hour). */
async function writeFile(key: string, events: readonly ClickstreamEvent[], shiftMs = 0): Promise<void> {
  const rows = events.map((e, i) => ({ ...e, event_time: e.event_time + shiftMs, source_topic: 't', source_partition: 0, source_offset: String(i), ingest_time: START + 60_000 }));
  const file = join(dir, key);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await encodeParquet(rows));
  // A replaced file gets a new mtime, as the mirror's rename gives it; made distinct here so a fast test cannot tie.
  const mtime = new Date(START + ++touches * 1000);
  utimesSync(file, mtime, mtime);
}

async function tableIds(lake: DuckDbLake): Promise<string[]> {
  const rows = await lake.run('SELECT event_id FROM lake_events ORDER BY event_id');
  return rows.map((r) => String(r.event_id));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clickstream-duckdb-lake-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hourOfKey', () => {
  it.each([
    ['events/year=2026/month=11/day=23/hour=10/t-p0-o1-2.parquet', 'year=2026/month=11/day=23/hour=10'],
    ['events/year=2026/month=11/day=23/hour=10/t.parquet.part', undefined],
    ['events/other/t.parquet', undefined],
    ['quarantine/year=2026/month=11/day=23/hour=10/t.jsonl', undefined],
  ])('%s → %s', (key, hour) => {
    expect(hourOfKey(key)).toBe(hour);
  });
});

describe('DuckDbLake', () => {
  it('keeps one row per event_id as files arrive, are replaced by a retried batch, and go away', async () => {
    // Two files sharing 20 events, as a re-sent batch leaves them.
    await writeFile(`${HOUR}/a.parquet`, EVENTS.slice(0, 60));
    await writeFile(`${HOUR}/b.parquet`, EVENTS.slice(40, 100));
    const lake = await DuckDbLake.open(dir);
    try {
      expect(await tableIds(lake)).toEqual(ids(0, 100).sort());

      // A new file with 10 events already held and 20 new ones: only the new ones are appended.
      await writeFile(`${HOUR}/c.parquet`, EVENTS.slice(90, 120));
      expect(await lake.refresh()).toEqual({ rebuiltHours: 0, appendedFiles: 1, failedHours: [] });
      expect(await tableIds(lake)).toEqual(ids(0, 120).sort());

      // a.parquet replaced by a smaller file: its other rows leave, b's copies of 40..59 stay.
      await writeFile(`${HOUR}/a.parquet`, EVENTS.slice(0, 10));
      expect(await lake.refresh()).toEqual({ rebuiltHours: 1, appendedFiles: 0, failedHours: [] });
      expect(await tableIds(lake)).toEqual([...ids(0, 10), ...ids(40, 120)].sort());

      // b.parquet removed: 90..99 stay because c holds them too.
      rmSync(join(dir, HOUR, 'b.parquet'));
      expect(await lake.refresh()).toEqual({ rebuiltHours: 1, appendedFiles: 0, failedHours: [] });
      expect(await tableIds(lake)).toEqual([...ids(0, 10), ...ids(90, 120)].sort());

      // Nothing changed: nothing is read again.
      expect(await lake.refresh()).toEqual({ rebuiltHours: 0, appendedFiles: 0, failedHours: [] });
    } finally {
      lake.close();
    }
  });

  it('holds back only the hour of a file it cannot read, and loads it once the file is whole', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), "clickstream-duckdb-o'damaged-")); // a quote in the path, too
    const hour11 = 'events/year=2026/month=11/day=23/hour=11';
    const save = dir;
    dir = dir2;
    try {
      await writeFile(`${HOUR}/good.parquet`, EVENTS.slice(0, 30));
      mkdirSync(join(dir2, hour11), { recursive: true });
      writeFileSync(join(dir2, hour11, 'torn.parquet'), 'not parquet');
      const lake = await DuckDbLake.open(dir2);
      try {
        expect(await tableIds(lake)).toEqual(ids(0, 30).sort());
        expect((await lake.refresh()).failedHours).toEqual(['year=2026/month=11/day=23/hour=11']);
        await writeFile(`${hour11}/torn.parquet`, EVENTS.slice(140, 150), 3_600_000);
        expect(await lake.refresh()).toEqual({ rebuiltHours: 0, appendedFiles: 1, failedHours: [] });
        expect(await tableIds(lake)).toEqual([...ids(0, 30), ...ids(140, 150)].sort());
      } finally {
        lake.close();
      }
    } finally {
      dir = save;
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('answers the named queries from the table with each event counted once', async () => {
    const lake = await DuckDbLake.open(dir);
    try {
      const api = new QueryApi({ engine: lake, cacheMs: 0, now: () => START + 3_600_000 });
      const body = JSON.parse((await api.handle('kpis', {})).body) as { rows: [{ events: number }] };
      expect(body.rows[0].events).toBe((await tableIds(lake)).length);
      expect(body.rows[0].events).toBe(40);
    } finally {
      lake.close();
    }
  });

  it('shows quarantine files that appear after it started', async () => {
    const lake = await DuckDbLake.open(dir);
    try {
      expect(await lake.run('SELECT count(*) AS n FROM lake_quarantine')).toEqual([{ n: 0 }]);
      const file = join(dir, 'quarantine/year=2026/month=11/day=23/hour=10/t.jsonl');
      mkdirSync(dirname(file), { recursive: true });
      const line = { code: 'invalid_json', reason: 'not JSON', source_topic: 't', source_partition: 0, source_offset: '7', ingest_time: START, raw: '{', raw_encoding: 'utf8' };
      writeFileSync(file, `${JSON.stringify(line)}\n`);
      await lake.refresh();
      expect(await lake.run('SELECT code, source_offset FROM lake_quarantine')).toEqual([{ code: 'invalid_json', source_offset: '7' }]);
    } finally {
      lake.close();
    }
  });
});
