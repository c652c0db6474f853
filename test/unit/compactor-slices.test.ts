/**
 * The compactor in slices (compact-hour.ts): an hour merged with a small slice budget gives the
 * same files' rows as the same hour merged in one slice, holds no more rows than the budget, and
 * keeps one row per event (the earliest ingested copy, even where copies' event times differ by a
 * few milliseconds, or where a copy came under another session and fell in another slice). The lake is the real consumer's, in a directory; the rollups' exactness over
 * several slices is checked against the raw events by rollups.test.ts, which compacts in slices.
 * With worker threads (slice-workers.ts) the files are byte for byte those of one thread.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakeView, MANIFEST_KEY, parseManifest, type Manifest } from '../../lambdas/common/compaction-manifest.ts';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { compactLake, type CompactionResult } from '../../lambdas/compactor/compact-lake.ts';
import { lakeRowColumns } from '../../lambdas/common/generated/lake-row-columns.js';
import { LAKE_COLUMNS } from '../../lambdas/common/lake-columns.ts';
import { bySessionThenTime, byTimeThenId, fileRowCounts, mergeSortedColumns } from '../../lambdas/compactor/merge-rows.ts';
import { readLakeRows } from '../../lambdas/compactor/parquet-reader.ts';
import { BUCKETS, bucketOf, packBuckets } from '../../lambdas/compactor/slice-hour.ts';
import type { WorkerThreads } from '../../lambdas/compactor/slice-workers.ts';
import { SpillWriter, spillRows } from '../../lambdas/compactor/spill-file.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import type { LakeRow } from '../../lambdas/consumer/plan-batch.ts';
import { suffixOf } from '../../lambdas/query/dashboard-statement.ts';
import { ROLLUP_NAMES } from '../../lambdas/query/rollups.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { DirectoryStore } from '../directory-store.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 20, 10);
const LATER = START + 4 * HOUR;
const row = (id: string, time: number, session = `s-${id}`) => ({ event_id: id, event_time: time, ingest_time: 1, session_id: session }) as unknown as LakeRow;

describe('slicing an hour', () => {
  it('puts a session in one bucket at each level, and spreads sessions over every bucket', () => {
    expect(bucketOf('session-1', 0)).toBe(bucketOf('session-1', 0));
    const counts = new Array<number>(BUCKETS).fill(0);
    for (let i = 0; i < 6_400; i++) counts[bucketOf(`s_${i}`, 0)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(150);
    // The next level spreads one bucket's sessions anew, not into one bucket again.
    const inOne = Array.from({ length: 6_400 }, (_, i) => `s_${i}`).filter((s) => bucketOf(s, 0) === 0);
    expect(new Set(inOne.map((s) => bucketOf(s, 1))).size).toBeGreaterThan(BUCKETS / 2);
  });

  it('packs buckets into slices within the budget, and names those over it', () => {
    expect(packBuckets([3, 0, 4, 2, 9, 1], 6)).toEqual({ slices: [[0], [2, 3], [5]], over: [4] });
    expect(packBuckets([1, 2, 3], 100)).toEqual({ slices: [[0, 1, 2]], over: [] });
    expect(packBuckets([0, 0], 5)).toEqual({ slices: [], over: [] });
    expect(() => packBuckets([1], 0)).toThrow(/at least 1 row/);
  });

  it('merges sorted runs (frames of columns, some empty) into one sorted sequence, and cuts files as splitRows does', () => {
    const runs = [[[row('a', 1)], [row('d', 5)]], [[row('b', 1), row('c', 3)], [], [row('e', 9)]], []];
    const merged = mergeSortedColumns(runs.map((frames) => frames.map((frame) => lakeRowColumns(frame))[Symbol.iterator]()));
    const ids = LAKE_COLUMNS.findIndex((c) => c.name === 'event_id');
    expect(merged.take(2)[ids]).toEqual(['a', 'b']);
    expect(merged.take(3)[ids]).toEqual(['c', 'd', 'e']);
    expect(() => merged.take(1)).toThrow(/the sorted runs ended 1 rows early/);
    expect(fileRowCounts(10, 4)).toEqual([4, 4, 2]);
    expect(fileRowCounts(0, 4)).toEqual([0]);
  });

  it('spills rows to disk and reads them back as they were, absent fields absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-spill-'));
    try {
      const rows = Array.from({ length: 2_500 }, (_, i) => ({ ...row(`e${i}`, START + i), revenue: i % 3 === 0 ? 0.1 + i / 7 : undefined, user_age: i % 5 === 0 ? undefined : 30 }));
      const written = rows.map((r) => JSON.parse(JSON.stringify(r)) as LakeRow);
      const spill = new SpillWriter(join(dir, 'x'));
      for (const r of written) spill.push(r);
      spill.close();
      expect(spill.rows).toBe(rows.length);
      const read = [...spillRows(spill.path)];
      expect(read).toEqual(written);
      expect(read.filter((r) => 'revenue' in r).length).toBe(written.filter((r) => 'revenue' in r).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compacting an hour in slices', () => {
  const dirs: string[] = [];
  /** Events whose copy was ingested first, with an event time 3 ms later (the collector's clock correction): the copy is kept. */
  const copyFirst = new Map<string, number>();
  /** Events re-sent later with an event time 3 ms earlier: the original is kept. */
  const copyLater = new Map<string, number>();
  /** Events re-sent later under another session (a sender may; slices are cut by session): the original is kept. */
  const moved = new Set<string>();
  let built: string;

  beforeAll(async () => {
    built = mkdtempSync(join(tmpdir(), 'clickstream-slices-'));
    dirs.push(built);
    const store = new DirectoryStore(built);
    const sim = new ShopperSimulator({ seed: 41, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: true });
    const events: { value: Buffer; time: number; id: string }[] = [];
    for (;;) {
      const r = sim.nextRecord();
      if (!r.event) continue;
      if (r.event.event_time >= START + HOUR) break;
      if (r.event.event_time >= START) events.push({ value: r.value, time: r.event.event_time, id: r.event.event_id });
    }
    const shifted = (value: Buffer, ms: number) => {
      const event = JSON.parse(value.toString()) as { event_time: number };
      return Buffer.from(JSON.stringify({ ...event, event_time: event.event_time + ms }));
    };
    const records = (values: readonly Buffer[], topic: string) => values.map((value, i) => ({ topic, partition: 0, offset: String(i), value }));
    for (let i = 0; i < events.length; i += 500) {
      const batch = events.slice(i, i + 500);
      const newest = Math.max(...batch.map((e) => e.time));
      const early = batch.filter((_, j) => j % 20 === 0);
      for (const e of early) copyFirst.set(e.id, e.time + 3);
      await consumeRecords(store, records(early.map((e) => shifted(e.value, 3)), `first-${i}`), newest + 30_000, encodeParquet);
      await consumeRecords(store, records(batch.map((e) => e.value), `live-${i}`), newest + MINUTE, encodeParquet);
    }
    const resent = events.filter((_, j) => j % 25 === 7);
    for (const e of resent) copyLater.set(e.id, e.time);
    await consumeRecords(store, records(resent.map((e) => shifted(e.value, -3)), 'resend'), START + HOUR + MINUTE, encodeParquet);
    const elsewhere = events.filter((_, j) => j % 31 === 13);
    for (const e of elsewhere) moved.add(e.id);
    const inAnotherSession = (value: Buffer) => {
      const event = JSON.parse(value.toString()) as { session_id: string };
      return Buffer.from(JSON.stringify({ ...event, session_id: `${event.session_id}-moved` }));
    };
    await consumeRecords(store, records(elsewhere.map((e) => inAnotherSession(e.value)), 'moved'), START + HOUR + 2 * MINUTE, encodeParquet);
  }, 120_000);

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the raw lake compacted with these options: its result, manifest and the hour's rows file by file. */
  async function compactCopy(options: { sliceRows?: number; targetFileBytes?: number; workers?: WorkerThreads; maxProductMinuteGroups?: number }) {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-slices-'));
    dirs.push(dir);
    cpSync(built, dir, { recursive: true });
    const store = new DirectoryStore(dir);
    const spillDir = mkdtempSync(join(tmpdir(), 'clickstream-spills-'));
    dirs.push(spillDir);
    const result: CompactionResult = await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => LATER, spillDir, ...options });
    expect(readdirSync(spillDir)).toEqual([]);
    const manifest: Manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
    const [entry] = Object.values(manifest.hours);
    const index = (key: string) => Number(/-(\d+)\.parquet$/.exec(key)![1]);
    const files = await Promise.all([...entry!.files].sort((a, b) => index(a.key) - index(b.key)).map(async (f) => readLakeRows((await store.get(f.key))!.body)));
    const rollups: Record<string, LakeRow[]> = {};
    for (const name of ROLLUP_NAMES) if (entry!.rollups![name]) rollups[name] = await readLakeRows((await store.get(entry!.rollups![name]))!.body);
    /** Every file written, by its key without the run's id. */
    const keys = [...entry!.files.map((f) => f.key), ...Object.values(entry!.rollups!)];
    const bytes: Record<string, Buffer> = {};
    for (const key of keys) bytes[key.replace(/-[0-9a-f]{8}(-\d+)?\.parquet$/, '$1.parquet')] = (await store.get(key))!.body;
    return { result, manifest, files, rollups, bytes };
  }

  /** Rollup rows as a sorted list, revenue rounded (sums of doubles differ in the last bits with the order they are added in). */
  const asSet = (rows: readonly object[]) =>
    rows.map((r) => JSON.stringify(Object.entries(r as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : typeof v === 'number' && !Number.isInteger(v) ? Number(v.toFixed(6)) : v]))).sort();

  it('writes the same rows as one slice, within the budget, one row per event, the earliest copy kept', async () => {
    const small = 64 * 1024;
    const one = await compactCopy({ targetFileBytes: small });
    expect(one.result.slices).toBe(1);
    for (const sliceRows of [500, 100]) {
      const sliced = await compactCopy({ sliceRows, targetFileBytes: small });
      expect(sliced.result.hoursCompacted).toBe(1);
      expect(sliced.result.slices).toBeGreaterThan(one.result.rowsWritten / sliceRows);
      // What memory grows with, by the run's own count: never above the budget.
      expect(sliced.result.peakSliceRows).toBeLessThanOrEqual(sliceRows);
      expect(sliced.result.peakSliceRows).toBeGreaterThan(0);
      expect(sliced.result.duplicatesDropped).toBe(one.result.duplicatesDropped);
      // The same rows (file boundaries follow each run's estimate of bytes per row, and a file's rows are in session order).
      expect(sliced.files.flat().sort(byTimeThenId)).toEqual(one.files.flat().sort(byTimeThenId));
      for (const name of ROLLUP_NAMES) expect(asSet(sliced.rollups[name]!), name).toEqual(asSet(one.rollups[name]!));
      // Files of about the target size (each one row group here) in event-time order, the rows of each by session.
      expect(sliced.files.length).toBeGreaterThan(1);
      for (const file of sliced.files) expect([...file].sort(bySessionThenTime)).toEqual(file);
      const spans = sliced.files.map((file) => [...file].sort(byTimeThenId)).map((file) => [file[0]!, file.at(-1)!] as const);
      for (let i = 1; i < spans.length; i++) expect(byTimeThenId(spans[i - 1]![1], spans[i]![0])).toBeLessThan(0);
    }

    const rows = one.files.flat();
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
    expect(one.result.duplicatesDropped).toBe(copyFirst.size + copyLater.size + moved.size);
    const kept = new Map(rows.map((r) => [r.event_id, r]));
    for (const [id, time] of [...copyFirst, ...copyLater]) expect(kept.get(id)?.event_time, id).toBe(time);
    expect(moved.size).toBeGreaterThan(10);
    for (const id of moved) expect(kept.get(id)?.session_id, id).not.toMatch(/-moved$/);
    expect(new Set([...copyFirst.keys()].map((id) => kept.get(id)!.source_topic.split('-')[0]))).toEqual(new Set(['first']));
  }, 120_000);

  it('writes the same files with worker threads as in one thread, each thread merging slices of its share of the budget', async () => {
    const small = 64 * 1024;
    const serial = await compactCopy({ sliceRows: 200, targetFileBytes: small });
    const threads = await compactCopy({ sliceRows: 400, targetFileBytes: small, workers: { count: 2, script: new URL('../../lambdas/compactor/slice-workers.ts', import.meta.url) } });
    expect(threads.result.slices).toBe(serial.result.slices);
    expect(threads.result.slices).toBeGreaterThan(2);
    expect(threads.result.peakSliceRows).toBeLessThanOrEqual(200);
    expect(threads.result.rowsWritten).toBe(serial.result.rowsWritten);
    expect(Object.keys(threads.bytes)).toHaveLength(serial.result.filesWritten + ROLLUP_NAMES.length);
    expect(threads.bytes).toEqual(serial.bytes);
  }, 120_000);

  it('writes an hour with more product minutes than a run may hold without them, its other rollups the same, and reads its partial first hour from its events', async () => {
    const small = 64 * 1024;
    const [full, capped] = [await compactCopy({ targetFileBytes: small }), await compactCopy({ sliceRows: 200, targetFileBytes: small, maxProductMinuteGroups: 50 })];
    expect(full.rollups.product_minutes!.length).toBeGreaterThan(50);
    const [entry] = Object.values(capped.manifest.hours);
    expect(Object.keys(entry!.rollups!).sort()).toEqual(['activity', 'products', 'sessions']);
    for (const name of ['sessions', 'activity', 'products']) expect(asSet(capped.rollups[name]!), name).toEqual(asSet(full.rollups[name]!));
    const range = { fromMs: START + 20 * MINUTE, toMs: START + 2 * HOUR };
    expect(suffixOf(range, lakeView(full.manifest, []))).toEqual({ hour: START, minuteMs: range.fromMs });
    expect(suffixOf(range, lakeView(capped.manifest, []))).toBeUndefined();
  }, 120_000);

  it('leaves an hour as it is when one session alone is over the budget, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-slices-'));
    dirs.push(dir);
    cpSync(built, dir, { recursive: true });
    const store = new DirectoryStore(dir);
    const skipped = await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => LATER, sliceRows: 3 });
    expect(skipped.hoursCompacted).toBe(0);
    expect(skipped.hoursSkipped.map((h) => h.hour)).toEqual(['year=2026/month=11/day=20/hour=10']);
    expect(skipped.hoursSkipped[0]!.reason).toMatch(/over the slice budget of 3 rows: give the compactor more memory/);
    expect(parseManifest((await store.get(MANIFEST_KEY))?.body).hours).toEqual({});
    expect(await store.list('compacted/')).toEqual([]);
  }, 60_000);

  it("removes the spill files a dead run left (in Lambda, one that timed out), not a live one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-slices-'));
    dirs.push(dir);
    cpSync(built, dir, { recursive: true });
    const spillDir = mkdtempSync(join(tmpdir(), 'clickstream-spills-'));
    dirs.push(spillDir);
    // A process id above any system's limit is a dead run's; the parent of this test runner is alive.
    for (const pid of [99_999_999, process.ppid]) {
      mkdirSync(join(spillDir, `clickstream-compactor-${pid}-abc123`, 'hour-x'), { recursive: true });
      writeFileSync(join(spillDir, `clickstream-compactor-${pid}-abc123`, 'hour-x', 'b-1'), 'spilled rows');
    }
    const result = await compactLake({ store: new DirectoryStore(dir), timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => LATER, spillDir });
    expect(result.hoursCompacted).toBe(1);
    expect(readdirSync(spillDir)).toEqual([`clickstream-compactor-${process.ppid}-abc123`]);
  }, 60_000);
});
