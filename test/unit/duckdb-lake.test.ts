/**
 * The local engine's de-duplicated table, against real DuckDB over real Parquet
 * files: it must hold exactly one row per event_id present in the files after
 * any sequence of new, replaced and removed files, as the mirror hands them on.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

const added = (...keys: string[]) => ({ added: keys, changed: [], removed: [] });
const changed = (...keys: string[]) => ({ added: [], changed: keys, removed: [] });
const removed = (...keys: string[]) => ({ added: [], changed: [], removed: keys });

/** Writes the events as a lake file; shiftMs moves their times (a file's rows lie in its key's hour); ingestMs is when its batch was written. */
async function writeFile(key: string, events: readonly ClickstreamEvent[], shiftMs = 0, ingestMs = START + 60_000): Promise<void> {
  const rows = events.map((e, i) => ({ ...e, event_time: e.event_time + shiftMs, source_topic: 't', source_partition: 0, source_offset: String(i), ingest_time: ingestMs }));
  const file = join(dir, key);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await encodeParquet(rows));
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
    const lake = await DuckDbLake.open(dir, { files: [`${HOUR}/a.parquet`, `${HOUR}/b.parquet`] });
    try {
      expect(await tableIds(lake)).toEqual(ids(0, 100).sort());

      // A new file with 10 events already held, copies of the same millisecond that differ in nothing
      // the table keeps, and 20 new ones: only the new ones are appended, and the hour is not rebuilt.
      await writeFile(`${HOUR}/c.parquet`, EVENTS.slice(90, 120));
      expect(await lake.apply(added(`${HOUR}/c.parquet`))).toEqual({ rebuiltHours: 0, appendedFiles: 1, failedHours: [] });
      expect(await tableIds(lake)).toEqual(ids(0, 120).sort());

      // a.parquet replaced by a smaller file: its other rows leave, b's copies of 40..59 stay.
      await writeFile(`${HOUR}/a.parquet`, EVENTS.slice(0, 10));
      expect(await lake.apply(changed(`${HOUR}/a.parquet`))).toEqual({ rebuiltHours: 1, appendedFiles: 0, failedHours: [] });
      expect(await tableIds(lake)).toEqual([...ids(0, 10), ...ids(40, 120)].sort());

      // b.parquet removed: 90..99 stay because c holds them too.
      rmSync(join(dir, HOUR, 'b.parquet'));
      expect(await lake.apply(removed(`${HOUR}/b.parquet`))).toEqual({ rebuiltHours: 1, appendedFiles: 0, failedHours: [] });
      expect(await tableIds(lake)).toEqual([...ids(0, 10), ...ids(90, 120)].sort());

      // Nothing changed: nothing is read again.
      expect(await lake.apply(added())).toEqual({ rebuiltHours: 0, appendedFiles: 0, failedHours: [] });
    } finally {
      await lake.close();
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
      const lake = await DuckDbLake.open(dir2, { files: [`${HOUR}/good.parquet`, `${hour11}/torn.parquet`] });
      try {
        expect(await tableIds(lake)).toEqual(ids(0, 30).sort());
        // Tried again at every apply, changes or not.
        expect((await lake.apply(added())).failedHours).toEqual(['year=2026/month=11/day=23/hour=11']);
        await writeFile(`${hour11}/torn.parquet`, EVENTS.slice(140, 150), 3_600_000);
        // The hour that failed is read again whole from its files.
        expect(await lake.apply(changed(`${hour11}/torn.parquet`))).toEqual({ rebuiltHours: 1, appendedFiles: 0, failedHours: [] });
        expect(await tableIds(lake)).toEqual([...ids(0, 30), ...ids(140, 150)].sort());
      } finally {
        await lake.close();
      }
    } finally {
      dir = save;
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('after any sequence of changes holds what a fresh load of the files now there holds', async () => {
    const dir3 = mkdtempSync(join(tmpdir(), 'clickstream-duckdb-fresh-'));
    const save = dir;
    dir = dir3;
    const hour11 = 'events/year=2026/month=11/day=23/hour=11';
    const compacted = 'compacted/year=2026/month=11/day=23/hour=10/c.parquet';
    // A late file, filed under its ingest hour, with rows of hours 10 and 11.
    const late = 'late/year=2026/month=11/day=23/hour=13/l.parquet';
    const present = new Set<string>();
    const rows = (lake: DuckDbLake) => lake.run('SELECT * FROM lake_events ORDER BY event_id');
    const lake = await DuckDbLake.open(dir3);
    try {
      const step = async (changes: { added?: string[]; changed?: string[]; removed?: string[] }) => {
        for (const key of [...(changes.added ?? []), ...(changes.changed ?? [])]) present.add(key);
        for (const key of changes.removed ?? []) {
          present.delete(key);
          rmSync(join(dir3, key));
        }
        await lake.apply({ added: changes.added ?? [], changed: changes.changed ?? [], removed: changes.removed ?? [] });
        const fresh = await DuckDbLake.open(dir3, { files: [...present] });
        try {
          expect(await rows(lake)).toEqual(await rows(fresh));
        } finally {
          await fresh.close();
        }
      };
      await writeFile(`${HOUR}/a.parquet`, EVENTS.slice(0, 60));
      await writeFile(`${HOUR}/b.parquet`, EVENTS.slice(40, 100));
      await writeFile(`${hour11}/d.parquet`, EVENTS.slice(100, 130), 3_600_000);
      await step({ added: [`${HOUR}/a.parquet`, `${HOUR}/b.parquet`, `${hour11}/d.parquet`] });
      await writeFile(late, [...EVENTS.slice(50, 70), ...EVENTS.slice(130, 140).map((e) => ({ ...e, event_time: e.event_time + 3_600_000 }))]);
      await step({ added: [late] });
      // Copies that arrived before those held (another partition's batch, listed after a's), and
      // differ from them (a sender can re-send an event_id with other content): the hour keeps these.
      const earlier = `${HOUR}/earlier.parquet`;
      await writeFile(earlier, EVENTS.slice(20, 30).map((e) => ({ ...e, device_type: e.device_type === 'mobile' ? 'desktop' : 'mobile' })), 0, START + 30_000);
      await step({ added: [earlier] });
      expect(await lake.run(`SELECT count(*) AS n FROM lake_events WHERE ingest_time = make_timestamp(${(START + 30_000) * 1000})`)).toEqual([{ n: 10 }]);
      // Copies of the same millisecond as those held (from a.parquet, offsets '30'-'34'), from an earlier
      // source (offsets '0'-'4'), that differ: the hour keeps these, as the rebuild and every reader pick.
      const tie = `${HOUR}/tie.parquet`;
      await writeFile(tie, EVENTS.slice(30, 35).map((e) => ({ ...e, device_type: e.device_type === 'mobile' ? 'desktop' : 'mobile' })));
      const flipped = await lake.run(`SELECT count(*) AS n FROM lake_events WHERE event_id IN (${ids(30, 35).map((id) => `'${id}'`).join(', ')}) AND device_type = 'mobile'`);
      await step({ added: [tie] });
      expect(await lake.run(`SELECT count(*) AS n FROM lake_events WHERE event_id IN (${ids(30, 35).map((id) => `'${id}'`).join(', ')}) AND device_type = 'mobile'`)).not.toEqual(flipped);
      // The compactor's file for hour 10, then the raw files it replaced removed.
      await writeFile(compacted, EVENTS.slice(0, 100));
      await step({ added: [compacted] });
      await step({ removed: [`${HOUR}/a.parquet`, `${HOUR}/b.parquet`, earlier, tie] });
      // A late file rewritten with other rows, a raw file of hour 11 replaced by a smaller one.
      await writeFile(late, EVENTS.slice(140, 150), 3_600_000);
      await writeFile(`${hour11}/d.parquet`, EVENTS.slice(100, 110), 3_600_000);
      await step({ changed: [late, `${hour11}/d.parquet`] });
      await step({ removed: [compacted, late] });
      expect(await tableIds(lake)).toEqual(ids(100, 110).sort());
    } finally {
      await lake.close();
      dir = save;
      rmSync(dir3, { recursive: true, force: true });
    }
  });

  it('answers the named queries from the table with each event counted once', async () => {
    const lake = await DuckDbLake.open(dir, { files: [`${HOUR}/a.parquet`, `${HOUR}/c.parquet`] });
    try {
      const api = new QueryApi({ engine: lake, cacheMs: 0, now: () => START + 3_600_000 });
      const body = JSON.parse((await api.handle('kpis', {})).body) as { rows: [{ events: number }] };
      expect(body.rows[0].events).toBe((await tableIds(lake)).length);
      expect(body.rows[0].events).toBe(40);
    } finally {
      await lake.close();
    }
  });

  it('runs queries side by side on its readers, each query on its share of the cores, and queues the rest', async () => {
    // A query long enough that a trivial one sent after it finishes first when it has a reader of its own.
    const N = 50_000_000;
    const long = `SELECT sum(i) AS n FROM range(${N}) t(i)`;
    const finishOrder = async (lake: DuckDbLake) => {
      const order: string[] = [];
      await Promise.all([lake.run(long).then(() => order.push('long')), lake.run('SELECT 1 AS n').then(() => order.push('short'))]);
      return order;
    };
    const threads = async (lake: DuckDbLake) => (await lake.run(`SELECT current_setting('threads') AS n`))[0]!.n as number;
    const one = await DuckDbLake.open(dir, { readers: 1 });
    // One reader keeps DuckDB's default: a thread per core.
    const all = await threads(one);
    try {
      expect(await finishOrder(one)).toEqual(['long', 'short']);
      // A query that fails gives its reader back.
      for (let i = 0; i < 3; i++) await expect(one.run('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
      expect(await one.run('SELECT 1 AS n')).toEqual([{ n: 1 }]);
      // Closed, it refuses the queries waiting for a reader and any sent after, and interrupts the one
      // running, closing DuckDB only once it has answered (closed under it, a query never answered). An
      // interrupt that comes before DuckDB has started the query is lost: then the query finishes.
      const running = one.run(long).then(([row]) => row!.n, (error: Error) => error.message);
      const waiting = expect(one.run('SELECT 1 AS n')).rejects.toThrow('the local lake is closed');
      await one.close();
      expect(['the local lake is closed', (N * (N - 1)) / 2]).toContain(await running);
      await waiting;
      await expect(one.run('SELECT 1 AS n')).rejects.toThrow('the local lake is closed');
    } finally {
      await one.close();
    }
    const two = await DuckDbLake.open(dir, { readers: 2 });
    try {
      expect(await finishOrder(two)).toEqual(['short', 'long']);
      // Each reader's own thread beside a pool one smaller: both busy keep DuckDB's default number busy.
      expect(await threads(two)).toBe(Math.max(1, all - 1));
    } finally {
      await two.close();
    }
  });

  it.each([0, 1.5, -2])('refuses %s readers with a sentence that says what it takes', async (readers) => {
    await expect(DuckDbLake.open(dir, { readers })).rejects.toThrow(`readers must be a whole number of connections, at least 1, got ${readers}`);
  });

  it('shows quarantine files that appear after it started', async () => {
    const lake = await DuckDbLake.open(dir, { files: [`${HOUR}/a.parquet`, `${HOUR}/c.parquet`] });
    try {
      expect(await lake.run('SELECT count(*) AS n FROM lake_quarantine')).toEqual([{ n: 0 }]);
      const file = join(dir, 'quarantine/year=2026/month=11/day=23/hour=10/t.jsonl');
      mkdirSync(dirname(file), { recursive: true });
      const line = { code: 'invalid_json', reason: 'not JSON', source_topic: 't', source_partition: 0, source_offset: '7', ingest_time: START, raw: '{', raw_encoding: 'utf8' };
      writeFileSync(file, `${JSON.stringify(line)}\n`);
      await lake.apply(added('quarantine/year=2026/month=11/day=23/hour=10/t.jsonl'));
      expect(await lake.run('SELECT code, source_offset FROM lake_quarantine')).toEqual([{ code: 'invalid_json', source_offset: '7' }]);
    } finally {
      await lake.close();
    }
  });
});
