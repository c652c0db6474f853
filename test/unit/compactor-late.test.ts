/**
 * A run's share (run-budget.ts) and late files worked through over several runs
 * (compact-lake.ts): a replay bigger than one run is folded a share per run, each
 * run's hours committed with the late files they hold, so a run that dies midway
 * loses none of its work, and a reader sees every event once after every run. The
 * lake is the real consumer's, in a directory.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_KEY, parseManifest, readableEventKeys, type Manifest } from '../../lambdas/common/compaction-manifest.ts';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { compactLake, type CompactorOptions } from '../../lambdas/compactor/compact-lake.ts';
import { readLakeRows } from '../../lambdas/compactor/parquet-reader.ts';
import { LateShare, shareOfRun } from '../../lambdas/compactor/run-budget.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { hourPartition } from '../../lambdas/consumer/lake-keys.ts';
import { PreconditionFailedError, type ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { DirectoryStore } from '../directory-store.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 21, 10);
/** Three hours of events: 10, 11 and 12. */
const HOURS = [0, 1, 2].map((h) => hourPartition(START + h * HOUR));
/** The replay arrives a day later; the runs run after it settled. */
const REPLAYED_AT = START + 24 * HOUR;
const RUNS_AT = REPLAYED_AT + HOUR;

describe("a run's share", () => {
  const work = (hour: string, inputBytes: number, lateBytes = 0) => ({ hour, inputBytes, lateBytes });

  it('takes hours in order within the bytes one run compacts, the first always, and leaves the rest in order', () => {
    const share = shareOfRun([work('a', 60, 10), work('b', 20), work('c', 200), work('d', 40), work('e', 5)], 100);
    expect(share.run.map((w) => w.hour)).toEqual(['a', 'b']);
    expect(share.tooBig.map((w) => w.hour)).toEqual(['c']);
    // d does not fit after a and b; e would, but does not overtake it.
    expect(share.later.map((w) => w.hour)).toEqual(['d', 'e']);
    // An hour whose late files alone are over the share is still taken first: a run always makes progress.
    expect(shareOfRun([work('a', 10, 500), work('b', 1)], 100)).toEqual({ run: [work('a', 10, 500)], tooBig: [], later: [work('b', 1)] });
    expect(shareOfRun([], 100)).toEqual({ run: [], tooBig: [], later: [] });
  });

  it('holds late files oldest first within its bytes, passes over those stuck on hours too big, and stops at the first that does not fit', () => {
    const share = new LateShare((hour) => hour !== 'big', 100);
    const file = (size: number, ...pending: string[]) => ({ size, pending: new Set(pending) });
    expect(share.offer(file(150, 'a'))).toBe('hold'); // the first always
    expect(share.offer(file(10, 'big'))).toBe('pass');
    expect(new LateShare(() => true, 100).offer(file(10))).toBe('hold'); // nothing pending: only needs folding
    const second = new LateShare((hour) => hour !== 'big', 100);
    expect(second.offer(file(60, 'a', 'big'))).toBe('hold');
    expect(second.offer(file(50, 'b'))).toBe('full');
    expect(second.offer(file(1, 'c'))).toBe('full'); // full stays full: the files after it wait, in order
  });
});

describe('late files over several runs', () => {
  const dirs: string[] = [];
  let built: string;
  /** Every event id of the three hours, by hour. */
  const expected = new Map<string, Set<string>>(HOURS.map((h) => [h, new Set<string>()]));
  let lateFiles = 0;

  beforeAll(async () => {
    built = mkdtempSync(join(tmpdir(), 'clickstream-late-'));
    dirs.push(built);
    const store = new DirectoryStore(built);
    const sim = new ShopperSimulator({ seed: 7, startTimeMs: START, eventsPerSecond: 1, dailyCurve: false, warmStart: true });
    // Hour 10 at the simulator's rate, hours 11 and 12 at a twelfth of it: one hour much bigger than the others.
    const byHour = new Map<string, { value: Buffer; time: number; id: string }[]>(HOURS.map((h) => [h, []]));
    let n = 0;
    for (;;) {
      const r = sim.nextRecord();
      if (!r.event) continue;
      if (r.event.event_time >= START + 3 * HOUR) break;
      if (r.event.event_time < START) continue;
      const hour = hourPartition(r.event.event_time);
      if (hour !== HOURS[0] && n++ % 12 !== 0) continue;
      byHour.get(hour)!.push({ value: r.value, time: r.event.event_time, id: r.event.event_id });
      expected.get(hour)!.add(r.event.event_id);
    }
    const records = (values: readonly Buffer[], topic: string) => values.map((value, i) => ({ topic, partition: 0, offset: String(i), value }));
    // On time: all but every tenth event, which only the replay brings.
    const onTime = [...byHour.values()].flat().filter((_, i) => i % 10 !== 0);
    for (let i = 0; i < onTime.length; i += 400) {
      const batch = onTime.slice(i, i + 400);
      await consumeRecords(store, records(batch.map((e) => e.value), `live-${i}`), Math.max(...batch.map((e) => e.time)) + MINUTE, encodeParquet);
    }
    await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => START + 4 * HOUR });
    // A replay of every event (a consumer group reset to the earliest offset), in eight late files that each hold rows of all three hours.
    for (let b = 0; b < 8; b++) {
      const batch = [...byHour.values()].flatMap((events) => events.slice(Math.floor((b * events.length) / 8), Math.floor(((b + 1) * events.length) / 8)));
      await consumeRecords(store, records(batch.map((e) => e.value), `replay-${b}`), REPLAYED_AT + b, encodeParquet);
      lateFiles++;
    }
  }, 120_000);

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const copy = () => {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-late-'));
    dirs.push(dir);
    cpSync(built, dir, { recursive: true });
    return new DirectoryStore(dir);
  };
  const manifestOf = async (store: ObjectStore): Promise<Manifest> => parseManifest((await store.get(MANIFEST_KEY))?.body);
  const hourBytes = async (store: ObjectStore) => Math.max(...Object.values((await manifestOf(store)).hours).map((h) => h.files.reduce((n, f) => n + f.bytes, 0)));
  const run = (store: ObjectStore, options: Partial<CompactorOptions> = {}) => compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => RUNS_AT, ...options });

  /** A run that dies (a Lambda timeout, a crash) as it commits its second hour, having committed the first. */
  async function runDyingAtSecondHour(store: ObjectStore) {
    const dying: ObjectStore = {
      get: (key) => store.get(key),
      list: (prefix) => store.list(prefix),
      delete: (keys) => store.delete(keys),
      put: (key, body, type, condition) =>
        key === MANIFEST_KEY && parseManifest(body).hours[HOURS[1]!]?.generation === 2 ? Promise.reject(new Error('the run was killed')) : store.put(key, body, type, condition),
    };
    await expect(run(dying)).rejects.toThrow('the run was killed');
  }

  /**
   * What a reader reads (the committed compacted files, raw files of hours not compacted, late files not
   * folded), as the window counts it: one event per event_id and hour. Also whether any compacted hour
   * holds an event twice, which readers would count twice (Athena reads compacted hours without the window).
   */
  async function readerSees(store: ObjectStore) {
    const manifest = await manifestOf(store);
    const keys = readableEventKeys(manifest, { raw: (await store.list('events/')).map((o) => o.key), late: (await store.list('late/')).map((o) => o.key) });
    const seen = new Map<string, Set<string>>(HOURS.map((h) => [h, new Set<string>()]));
    for (const key of keys) for (const row of await readLakeRows((await store.get(key))!.body)) seen.get(hourPartition(row.event_time))!.add(row.event_id);
    let compactedTwice = 0;
    for (const entry of Object.values(manifest.hours)) {
      const ids = (await Promise.all(entry.files.map(async (f) => readLakeRows((await store.get(f.key))!.body)))).flat().map((r) => r.event_id);
      compactedTwice += ids.length - new Set(ids).size;
    }
    return { seen, compactedTwice, manifest };
  }

  it('folds a replay bigger than one run a share per run, every event seen once after every run, nothing redone', async () => {
    const store = copy();
    const before = await readerSees(store);
    // The lake before the replay was compacted lacks every tenth event, which the late files bring.
    expect(before.seen).toEqual(expected);
    const lateBytes = (await store.list('late/')).reduce((n, o) => n + o.size, 0);
    // A run compacts about one big hour (its share of time), and holds about a third of the late files.
    const options = { maxHourBytes: Math.ceil((await hourBytes(store)) * 1.5), lateBytesHeld: Math.ceil(lateBytes / 3) };
    const results = [];
    for (let i = 0; i < 20; i++) {
      const result = await run(store, options);
      results.push(result);
      const after = await readerSees(store);
      expect(after.seen).toEqual(expected);
      expect(after.compactedTwice).toBe(0);
      if (result.hoursCompacted === 0 && result.lateFilesLeft === 0 && result.hoursLeft === 0) break;
    }
    // Several runs, each within its share: some hours and late files left for the next.
    expect(results.length).toBeGreaterThan(3);
    expect(results.some((r) => r.hoursLeft > 0)).toBe(true);
    expect(results.some((r) => r.lateFilesLeft > 0)).toBe(true);
    // Every late file folded, each once; no hour names one any more; each hour compacted once per
    // share of late files (the runs that folded some), not again for files it already holds.
    const last = await readerSees(store);
    expect(results.reduce((n, r) => n + r.lateFilesFolded, 0)).toBe(lateFiles);
    expect(Object.keys(last.manifest.folded)).toHaveLength(lateFiles);
    expect(Object.values(last.manifest.hours).every((h) => h.lateKeys === undefined)).toBe(true);
    const shares = results.filter((r) => r.lateFilesFolded > 0).length;
    expect(shares).toBeGreaterThan(1);
    expect(results.reduce((n, r) => n + r.hoursCompacted, 0)).toBe(shares * HOURS.length);
    for (const hour of HOURS) expect(last.manifest.hours[hour]!.rows).toBe(expected.get(hour)!.size);
  }, 120_000);

  it('keeps what a run committed before it died: the next run compacts only the hours left, and folds the files', async () => {
    const store = copy();
    await runDyingAtSecondHour(store);
    const died = await readerSees(store);
    expect(died.seen).toEqual(expected);
    expect(died.compactedTwice).toBe(0);
    const first = died.manifest.hours[HOURS[0]!]!;
    expect(first.generation).toBe(2);
    expect(first.lateKeys).toHaveLength(lateFiles);
    expect(Object.keys(died.manifest.folded)).toHaveLength(0);

    const rerun = await run(store);
    expect(rerun).toMatchObject({ hoursCompacted: 2, lateFilesFolded: lateFiles, hoursLeft: 0, lateFilesLeft: 0 });
    const done = await readerSees(store);
    expect(done.seen).toEqual(expected);
    expect(done.manifest.hours[HOURS[0]!]!.generation).toBe(2);
    expect(Object.values(done.manifest.hours).every((h) => h.lateKeys === undefined)).toBe(true);
  }, 120_000);

  it('records an hour that fails as it is (a session bigger than a slice), skips it without trying until the budget grows, and does not hold up the hours behind it', async () => {
    const store = copy();
    const manifest = await manifestOf(store);
    const [first, second] = HOURS.map((h) => manifest.hours[h]!.files.reduce((n, f) => n + f.bytes, 0));
    const gets: string[] = [];
    const counted: ObjectStore = { ...store, get: (key) => (gets.push(key), store.get(key)), put: store.put.bind(store), list: store.list.bind(store), delete: store.delete.bind(store) };
    // Slices of 10 rows: hour 10 has sessions of more events than that; hours 11 and 12, at a twelfth of the rate, do not.
    // A run's share fits hour 10 and not hour 11 after it.
    const small = { sliceRows: 10, maxHourBytes: first! + Math.floor(second! / 2) };
    const failed = await run(counted, small);
    expect(failed).toMatchObject({ hoursCompacted: 0, hoursLeft: 2 });
    expect(failed.hoursSkipped.map((s) => s.hour)).toEqual([HOURS[0]]);
    expect(failed.hoursSkipped[0]!.reason).toMatch(/over the slice budget of 10 rows/);
    expect((await manifestOf(store)).stuck?.[HOURS[0]!]).toMatchObject({ inputBytes: first, sliceRows: 10, lateFiles: lateFiles });
    // It failed with every late file: tried again with the oldest alone, it fails again, and is stuck.
    expect(await run(counted, small)).toMatchObject({ hoursCompacted: 0, hoursLeft: 2 });
    const stuck = (await manifestOf(store)).stuck?.[HOURS[0]!];
    expect(stuck).toMatchObject({ inputBytes: first, sliceRows: 10, lateFiles: 1 });
    // The next runs skip it without reading it, with the reason it failed, and compact the hours behind it.
    gets.length = 0;
    const next = await run(counted, small);
    expect(next).toMatchObject({ hoursCompacted: 1, hoursLeft: 1 });
    expect(next.hoursSkipped).toEqual([{ hour: HOURS[0], reason: stuck!.reason }]);
    expect(gets.filter((key) => key.startsWith(`compacted/${HOURS[0]}/`))).toEqual([]);
    expect(await run(counted, small)).toMatchObject({ hoursCompacted: 1, hoursLeft: 0, lateFilesFolded: 0 });
    // Every late file now waits only on hour 10: passed over by its name, without a GET, and the hour still
    // reported; an hour later, the commit that deletes the replaced generations keeps the record.
    gets.length = 0;
    const waiting = await run(counted, { ...small, now: () => RUNS_AT + 2 * HOUR });
    expect(waiting.filesDeleted).toBeGreaterThan(0);
    expect((await manifestOf(store)).stuck?.[HOURS[0]!]).toEqual(stuck);
    expect(waiting).toMatchObject({ hoursCompacted: 0, lateFilesPassed: lateFiles, lateFilesFolded: 0 });
    expect(waiting.hoursSkipped.map((s) => s.hour)).toEqual([HOURS[0]]);
    expect(gets.filter((key) => key.startsWith('late/'))).toEqual([]);
    expect((await readerSees(store)).seen).toEqual(expected);
    // With a bigger slice budget (more memory) the hour is tried again, compacted, and every file folded.
    const bigger = await run(counted, { sliceRows: 100_000, now: () => RUNS_AT + 2 * HOUR });
    expect(bigger).toMatchObject({ hoursCompacted: 1, lateFilesFolded: lateFiles, hoursSkipped: [] });
    const done = await readerSees(store);
    expect(done.manifest.stuck).toBeUndefined();
    expect(done.seen).toEqual(expected);
    expect(done.compactedTwice).toBe(0);
  }, 120_000);

  it('tries an hour that failed with several late files (a session and its copies over a slice) with one at a time, so it is not left stuck', async () => {
    const store = copy();
    // Slices of 32 rows: hour 10 with all eight files holds a session's events and their copies over it, with one file not.
    const tight = { sliceRows: 32 };
    expect(await run(store, tight)).toMatchObject({ hoursCompacted: 2, lateFilesFolded: 0 });
    expect((await manifestOf(store)).stuck?.[HOURS[0]!]).toMatchObject({ sliceRows: 32, lateFiles: lateFiles });
    let runs = 1;
    while (Object.keys((await manifestOf(store)).folded).length < lateFiles && runs < 40) {
      await run(store, tight);
      runs++;
    }
    const done = await readerSees(store);
    expect(Object.keys(done.manifest.folded)).toHaveLength(lateFiles);
    expect(done.manifest.stuck).toBeUndefined();
    expect(done.seen).toEqual(expected);
    expect(done.compactedTwice).toBe(0);
  }, 120_000);

  it('drops from the hours a late file that a retried batch replaced, and folds the replacement', async () => {
    const store = copy();
    // A run commits hour 10 with every late file and dies; then a retried batch replaces one of them.
    await runDyingAtSecondHour(store);
    const [replaced] = (await store.list('late/')).map((o) => o.key);
    const replacement = replaced!.replace(/-t(\d+)-h/, (_, t: string) => `-t${Number(t) + 1}-h`);
    await store.put(replacement, (await store.get(replaced!))!.body, 'application/vnd.apache.parquet');
    await store.delete([replaced!]);
    expect((await manifestOf(store)).hours[HOURS[0]!]!.lateKeys).toContain(replaced);

    const rerun = await run(store);
    // Hour 10 again for the replacement; 11 and 12 for every file.
    expect(rerun).toMatchObject({ hoursCompacted: 3, lateFilesFolded: lateFiles });
    const done = await readerSees(store);
    expect(done.seen).toEqual(expected);
    expect(Object.values(done.manifest.hours).every((h) => h.lateKeys === undefined)).toBe(true);
    expect(done.manifest.folded).toHaveProperty([replacement]);
    expect(JSON.stringify(done.manifest)).not.toContain(replaced);
  }, 120_000);

  it('passes over late files stuck on an hour too big to compact, so they do not hold up newer ones', async () => {
    const store = copy();
    // Hour 10 is too big for this compactor; 11 and 12 fit, together with a late file each. Every late file
    // has rows in all three, so none can be folded.
    const manifest = await manifestOf(store);
    const [big, ...small] = HOURS.map((h) => manifest.hours[h]!.files.reduce((n, f) => n + f.bytes, 0));
    const lateFile = Math.max(...(await store.list('late/')).map((o) => o.size));
    const options = { maxHourBytes: big! - 1, lateBytesHeld: 1 };
    expect(small[0]! + small[1]! + 2 * lateFile).toBeLessThanOrEqual(options.maxHourBytes);
    const first = await run(store, options);
    expect(first.hoursSkipped.map((s) => s.hour)).toEqual([HOURS[0]]);
    expect(first).toMatchObject({ hoursCompacted: 2, lateFilesFolded: 0 });
    expect(first.lateFilesLeft).toBe(lateFiles - 1);
    // Each run after takes the next file: those before it wait only on hour 10, so they are passed over, not re-folded.
    for (let i = 1; i < lateFiles; i++) {
      const next = await run(store, options);
      expect(next).toMatchObject({ hoursCompacted: 2, lateFilesFolded: 0, lateFilesLeft: lateFiles - 1 - i });
    }
    const idle = await run(store, options);
    expect(idle).toMatchObject({ hoursCompacted: 0, lateFilesLeft: 0 });
    const after = await readerSees(store);
    expect(after.seen).toEqual(expected);
    expect(after.compactedTwice).toBe(0);
    for (const hour of HOURS.slice(1)) expect(after.manifest.hours[hour]!.lateKeys).toHaveLength(lateFiles);
  }, 120_000);

  it('keeps the files of a commit that landed though its PUT answered 412 (a retry meeting its own write), and the next run goes on from it', async () => {
    const store = copy();
    let answered412 = false;
    const landsThen412: ObjectStore = {
      get: (key) => store.get(key),
      list: (prefix) => store.list(prefix),
      delete: (keys) => store.delete(keys),
      put: async (key, body, type, condition) => {
        const etag = await store.put(key, body, type, condition);
        if (key !== MANIFEST_KEY || answered412) return etag;
        answered412 = true;
        throw new PreconditionFailedError('the retry of a PUT that landed met its own write');
      },
    };
    const first = await run(landsThen412);
    expect(first.lostRace).toBe(true);
    // Every file the committed manifest names is there: the run took the 412 for a lost race, and deleted nothing.
    const named = Object.values((await manifestOf(store)).hours).flatMap((h) => [...h.files.map((f) => f.key), ...Object.values(h.rollups ?? {})]);
    expect(named.length).toBeGreaterThan(0);
    for (const key of named) expect(await store.get(key), key).toBeDefined();
    const after = await readerSees(store);
    expect(after.seen).toEqual(expected);
    expect(after.compactedTwice).toBe(0);
    // Runs after it finish the replay from that manifest.
    for (let i = 0; i < 20; i++) if ((await run(store)).lateFilesLeft === 0) break;
    expect((await readerSees(store)).seen).toEqual(expected);
  }, 120_000);
});
