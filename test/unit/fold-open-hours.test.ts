/**
 * Folding the open hour (fold-open-hours.ts, open-hour-record.ts): the real consumer
 * writes an hour's raw files from two source partitions, with copies of events,
 * while folds run between its batches. After every fold the hour's parts hold each
 * event once, the raw files no fold has read hold the rest, and once the hour
 * settles the parts hold exactly the rows the compactor writes for it. The lake is
 * a directory.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MANIFEST_KEY, parseManifest } from '../../lambdas/common/compaction-manifest.ts';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { EMPTY_OPEN_HOUR, isFolded, openHourKey, parseOpenHourRecord, rawFileSource, type OpenHourRecord } from '../../lambdas/common/open-hour-record.ts';
import { compactLake } from '../../lambdas/compactor/compact-lake.ts';
import { foldOpenHours, foldShare, mergeTail, type FoldOptions } from '../../lambdas/compactor/fold-open-hours.ts';
import { PartIds } from '../../lambdas/compactor/part-ids.ts';
import { bySessionThenTime, byTimeThenId } from '../../lambdas/compactor/merge-rows.ts';
import { readLakeRows } from '../../lambdas/compactor/parquet-reader.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { hourPartition } from '../../lambdas/consumer/lake-keys.ts';
import type { ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import type { LakeRow } from '../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { openHoursReadFromEnv, storeLakeView } from '../../lambdas/query/lake-view-source.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { DirectoryStore } from '../directory-store.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 21, 10);
const THE_HOUR = hourPartition(START);
const TOPIC = 'clickstream.events';
/** After the hour settled (lake-timing.ts: 16 minutes after its end). */
const SETTLED_AT = START + HOUR + 17 * MINUTE;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function newStore(): DirectoryStore {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-fold-'));
  dirs.push(dir);
  return new DirectoryStore(dir);
}

/** The simulator's events of the hour, as payloads with their ids. */
function eventsOfTheHour(perSecond: number): { value: Buffer; id: string; time: number }[] {
  const sim = new ShopperSimulator({ seed: 11, startTimeMs: START, eventsPerSecond: perSecond, dailyCurve: false, warmStart: true });
  const events = [];
  for (;;) {
    const r = sim.nextRecord();
    if (!r.event) continue;
    if (r.event.event_time >= START + HOUR) return events;
    if (r.event.event_time >= START) events.push({ value: r.value, id: r.event.event_id, time: r.event.event_time });
  }
}

/** A stream of two partitions, each with its own offsets, as a consumer reads it. */
class TwoPartitions {
  private readonly next = [0, 0];
  records(partition: number, values: readonly Buffer[]): SourceRecord[] {
    return values.map((value) => ({ topic: TOPIC, partition, offset: String(this.next[partition]!++), value }));
  }
}

const recordOf = async (store: ObjectStore): Promise<OpenHourRecord> => parseOpenHourRecord(openHourKey(THE_HOUR), (await store.get(openHourKey(THE_HOUR)))?.body);
const rowsOf = async (store: ObjectStore, keys: readonly string[]): Promise<LakeRow[]> => (await Promise.all(keys.map(async (key) => readLakeRows((await store.get(key))!.body)))).flat();
const fold = (store: ObjectStore, at: number, options: Partial<FoldOptions> = {}) => foldOpenHours({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, now: () => at, ...options });

/**
 * What a reader of the folded hour sees: the parts' rows, and the event ids of the raw files no
 * fold has read (the record's offsets say which). Also how often a part repeats an id.
 */
async function foldedView(store: ObjectStore) {
  const record = await recordOf(store);
  const parts = await rowsOf(store, record.parts.map((p) => p.key));
  const raw = (await store.list(`events/${THE_HOUR}/`)).map((o) => o.key);
  const unfolded = await rowsOf(store, raw.filter((key) => !isFolded(record, key)));
  const partIds = parts.map((r) => r.event_id);
  return { record, parts, repeated: partIds.length - new Set(partIds).size, ids: new Set([...partIds, ...unfolded.map((r) => r.event_id)]) };
}

/** The hour's rows as the compactor writes them once it settles: what the parts must hold by then. */
async function compactedRows(store: ObjectStore): Promise<LakeRow[]> {
  await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => SETTLED_AT });
  const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
  return (await rowsOf(store, manifest.hours[THE_HOUR]!.files.map((f) => f.key))).sort(byTimeThenId);
}

describe('the open-hour record', () => {
  it('reads a raw file name for its source partition and last offset, and says which files a fold has read', () => {
    const key = `events/${THE_HOUR}/my-topic.v2-p3-o120-245.parquet`;
    expect(rawFileSource(key)).toEqual({ source: 'my-topic.v2/3', lastOffset: 245n });
    expect(rawFileSource(`events/${THE_HOUR}/copied-by-hand.parquet`)).toBeUndefined();
    const record: OpenHourRecord = { ...EMPTY_OPEN_HOUR, folded: { 'my-topic.v2/3': '245' } };
    expect(isFolded(record, key)).toBe(true);
    expect(isFolded(record, `events/${THE_HOUR}/my-topic.v2-p3-o246-300.parquet`)).toBe(false);
    expect(isFolded(record, `events/${THE_HOUR}/my-topic.v2-p4-o0-1.parquet`)).toBe(false);
    // Offsets compare as numbers, however long (Kinesis sequence numbers exceed 64 bits).
    const kinesis: OpenHourRecord = { ...EMPTY_OPEN_HOUR, folded: { 's/0': '49654000000000000000000000000000000000000000000000000009' } };
    expect(isFolded(kinesis, `events/${THE_HOUR}/s-p0-o1-49654000000000000000000000000000000000000000000000000010.parquet`)).toBe(false);
    expect(isFolded(kinesis, `events/${THE_HOUR}/s-p0-o1-9.parquet`)).toBe(true);
  });

  it('reads CLICKSTREAM_OPEN_HOURS as raw or folded, and refuses anything else with one sentence', () => {
    expect(openHoursReadFromEnv({})).toBe('raw');
    expect(openHoursReadFromEnv({ CLICKSTREAM_OPEN_HOURS: '' })).toBe('raw');
    expect(openHoursReadFromEnv({ CLICKSTREAM_OPEN_HOURS: 'folded' })).toBe('folded');
    expect(() => openHoursReadFromEnv({ CLICKSTREAM_OPEN_HOURS: 'Folded' })).toThrow('CLICKSTREAM_OPEN_HOURS must be "raw" or "folded", got "Folded"');
  });

  it('refuses a damaged or unknown record with one sentence saying what to do', () => {
    const key = openHourKey(THE_HOUR);
    const parse = (text: string) => () => parseOpenHourRecord(key, new TextEncoder().encode(text));
    expect(parseOpenHourRecord(key, undefined)).toEqual(EMPTY_OPEN_HOUR);
    expect(parse('{')).toThrow(`the open-hour record ${key} is damaged: delete it, and the hour's raw files are folded again from the start`);
    expect(parse('[]')).toThrow('has an unknown format (version undefined): this code reads version 1');
    expect(parse('{"version":2}')).toThrow('has an unknown format (version 2)');
    expect(parse('{"version":1,"parts":{},"folded":{},"foldedAtMs":1}')).toThrow('is damaged');
    expect(parse('{"version":1,"parts":[],"folded":{"t/0":12},"foldedAtMs":1}')).toThrow('is damaged');
    expect(parse('{"version":1,"parts":[{"key":"k","rows":1}],"folded":{},"foldedAtMs":1}')).toThrow('is damaged');
    expect(parse('{"version":1,"parts":[{"key":"k","rows":1,"maxIngestMs":1,"folds":0}],"folded":{},"foldedAtMs":1}')).toThrow('is damaged');
    expect(parse('{"version":1,"parts":[{"key":"k","rows":1,"maxIngestMs":1,"folds":"4"}],"folded":{},"foldedAtMs":1}')).toThrow('is damaged');
    expect(parse('{"version":1,"parts":[],"folded":{"t/0":"12"},"foldedAtMs":1}')()).toMatchObject({ folded: { 't/0': '12' } });
  });

  it("merges a fold's new rows with the newest parts of their size, a size up at a time, within the rows allowed", () => {
    const part = (rows: number, folds?: number) => ({ key: 'k', rows, bytes: 0, maxIngestMs: 0, ...(folds && { folds }) });
    expect(mergeTail([], 100, 1_000)).toEqual({ take: 0, folds: 1 });
    expect(mergeTail([part(100), part(100)], 100, 1_000)).toEqual({ take: 0, folds: 1 });
    expect(mergeTail([part(100), part(100), part(100)], 100, 1_000)).toEqual({ take: 3, folds: 4 });
    expect(mergeTail([part(100), part(100), part(100)], 100, 399)).toEqual({ take: 0, folds: 1 });
    expect(mergeTail([part(100), part(100), part(100)], 100, 0)).toEqual({ take: 0, folds: 1 });
    // Only the newest parts, and only of the new part's size.
    expect(mergeTail([part(100), part(100), part(400, 4), part(100), part(100)], 100, 1_000)).toEqual({ take: 0, folds: 1 });
    expect(mergeTail([part(100), part(400, 4), part(100), part(100), part(100)], 100, 1_000)).toEqual({ take: 3, folds: 4 });
    // A size up in the same fold, when the three parts before are of the size just made.
    const three = [part(400, 4), part(400, 4), part(400, 4)];
    expect(mergeTail([...three, part(100), part(100), part(100)], 100, 1_600)).toEqual({ take: 6, folds: 16 });
    expect(mergeTail([...three, part(100), part(100), part(100)], 100, 1_599)).toEqual({ take: 3, folds: 4 });
  });

  it('finds which part holds each id, as a set of strings would, in 16 bytes an id (ids that are not UUIDs as text)', () => {
    const ids = Array.from({ length: 3_000 }, () => randomUUID());
    const parts = [ids.slice(0, 1_000), ids.slice(1_000, 2_000), [...ids.slice(500, 600), 'not-a-uuid', ids[2_999]!.toUpperCase()]];
    const asked = [...ids, 'not-a-uuid', 'also-not', ids[2_999]!.toUpperCase(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
    const held = PartIds.holders(asked, parts.map((p) => PartIds.of(p)));
    const expected = asked.map((id) => parts.findIndex((p) => p.includes(id)));
    expect([...held]).toEqual(expected);
    expect(PartIds.of(parts[2]!).size).toBe(102);
    expect([...PartIds.holders([], [PartIds.of(ids)])]).toEqual([]);
  });

  it("takes each partition's files in offset order, the partition written longest ago first, within the bytes", () => {
    const file = (partition: number, first: number, last: number, lastModifiedMs: number, size = 10) => ({ key: `events/${THE_HOUR}/t-p${partition}-o${first}-${last}.parquet`, etag: '', size, lastModifiedMs });
    // Partition 0's later file was written first (a retried batch rewrites its key): it still waits for the earlier one.
    const files = [file(0, 10, 19, 1), file(0, 0, 9, 5), file(1, 0, 4, 3), file(1, 5, 9, 4)];
    expect(foldShare(files, 25).take.map((f) => f.key)).toEqual([files[2]!.key, files[3]!.key]);
    expect(foldShare(files, 1_000).take.map((f) => f.key)).toEqual([files[2]!.key, files[3]!.key, files[1]!.key, files[0]!.key]);
    // The first file always, however big.
    expect(foldShare([file(0, 0, 9, 1, 500)], 1)).toEqual({ take: [file(0, 0, 9, 1, 500)], left: 0 });
    expect(foldShare(files, 1).left).toBe(3);
  });
});

describe('folding the open hour', () => {
  const events = eventsOfTheHour(1);

  /**
   * The consumer writes the hour in 24 batches, alternating partitions, every second batch also
   * re-sending five events of the one before (a producer's retry: other offsets, another
   * partition); a fold runs after every third batch, with `options`.
   */
  async function writeAndFold(store: ObjectStore, options: Partial<FoldOptions> = {}, check?: (expected: Set<string>) => Promise<void>) {
    const stream = new TwoPartitions();
    const expected = new Set<string>();
    const batches = 24;
    const results = [];
    for (let b = 0; b < batches; b++) {
      const batch = events.slice(Math.floor((b * events.length) / batches), Math.floor(((b + 1) * events.length) / batches));
      const resent = b % 2 === 1 ? events.slice(Math.floor(((b - 1) * events.length) / batches), Math.floor(((b - 1) * events.length) / batches) + 5) : [];
      const ingest = START + ((b + 1) * HOUR) / batches + 5_000;
      await consumeRecords(store, stream.records(b % 2, [...batch, ...resent].map((e) => e.value)), ingest, encodeParquet);
      for (const e of batch) expected.add(e.id);
      if (b % 3 === 2 || b === batches - 1) {
        results.push(await fold(store, ingest + 1000, options));
        await check?.(expected);
      }
    }
    return { expected, results };
  }

  it('after every fold holds each event once, in the parts or in raw files not folded yet, and by the hour settling exactly the rows the compactor writes', async () => {
    const store = newStore();
    const { expected, results } = await writeAndFold(store, {}, async (expectedSoFar) => {
      const view = await foldedView(store);
      expect(view.repeated).toBe(0);
      expect(view.ids).toEqual(expectedSoFar);
    });
    // Every fold read what was new, one part each; the re-sent events were dropped as copies.
    expect(results.every((r) => r.hoursFolded === 1 && r.filesLeft === 0 && !r.lostRace)).toBe(true);
    expect(results.reduce((n, r) => n + r.eventsFolded, 0)).toBe(expected.size);
    expect(results.reduce((n, r) => n + r.duplicatesDropped, 0)).toBe(12 * 5);
    const view = await foldedView(store);
    // Eight folds: the first four merged into one part as the fourth folded, and the next four so.
    expect(results).toHaveLength(8);
    expect(view.record.parts.map((p) => p.folds)).toEqual([4, 4]);
    expect(results.map((r) => r.partsMerged)).toEqual([0, 0, 0, 3, 0, 0, 0, 3]);
    expect(new Set(view.parts.map((r) => r.event_id))).toEqual(expected);
    // A fold with nothing new writes nothing.
    expect(await fold(store, START + HOUR + 5 * MINUTE)).toMatchObject({ hoursFolded: 0, filesFolded: 0 });
    expect(await recordOf(store)).toEqual(view.record);

    expect(view.parts.sort(byTimeThenId)).toEqual(await compactedRows(store));
  }, 60_000);

  it('a share at a time when raw files pile up, no file of a partition left behind one taken', async () => {
    const store = newStore();
    const { expected, results } = await writeAndFold(store, { maxFoldBytes: 1 }, async () => {
      const view = await foldedView(store);
      expect(view.repeated).toBe(0);
    });
    expect(results.some((r) => r.filesLeft > 0)).toBe(true);
    // Later folds catch up, a file each.
    let after;
    do after = await fold(store, START + HOUR + MINUTE, { maxFoldBytes: 1 });
    while (after.filesFolded > 0);
    expect(after.filesLeft).toBe(0);
    const view = await foldedView(store);
    expect(new Set(view.parts.map((r) => r.event_id))).toEqual(expected);
    expect(view.parts.sort(byTimeThenId)).toEqual(await compactedRows(store));
  }, 60_000);

  it("keeps the copy that arrived first when its file is written after a fold read a later copy: the part holding the later one is written again", async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    const some = events.slice(0, 200);
    const changed = (value: Buffer) => Buffer.from(JSON.stringify({ ...JSON.parse(value.toString()), page_url: 'https://shop.example/changed-by-the-sender' }));
    // Partition 0 ingests the events at minute 40; its file is folded.
    await consumeRecords(store, stream.records(0, some.map((e) => e.value)), START + 40 * MINUTE, encodeParquet);
    expect(await fold(store, START + 41 * MINUTE)).toMatchObject({ eventsFolded: 200, partsRewritten: 0 });
    // Partition 1 had ingested altered copies of ten of them earlier, at minute 39, but its write
    // lands only now (a slow attempt, within the write deadline), beside ten new events.
    const late = [...some.slice(50, 60).map((e) => changed(e.value)), ...events.slice(200, 210).map((e) => e.value)];
    await consumeRecords(store, stream.records(1, late), START + 39 * MINUTE, encodeParquet);
    expect(await fold(store, START + 42 * MINUTE)).toMatchObject({ eventsFolded: 10, duplicatesDropped: 10, partsRewritten: 1 });
    const view = await foldedView(store);
    expect(view.repeated).toBe(0);
    expect(view.parts.filter((r) => r.page_url === 'https://shop.example/changed-by-the-sender')).toHaveLength(10);
    expect(view.record.parts.map((p) => p.rows)).toEqual([190, 20]);
    expect(view.parts.sort(byTimeThenId)).toEqual(await compactedRows(store));
  }, 60_000);

  it('merges parts as the fourth of a size is folded, each in session order; a reader that took the parts merged away still reads them for a retention', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    const foldAt = async (n: number, options: Partial<FoldOptions> = {}) => {
      await consumeRecords(store, stream.records(n % 2, events.slice(n * 100, (n + 1) * 100).map((e) => e.value)), START + (20 + n) * MINUTE, encodeParquet);
      return fold(options.store ?? store, START + (20 + n) * MINUTE + 1_000, options);
    };
    for (let n = 0; n < 3; n++) expect(await foldAt(n)).toMatchObject({ eventsFolded: 100, partsMerged: 0 });
    const before = await recordOf(store);
    const rowsBefore = await rowsOf(store, before.parts.map((p) => p.key));
    // Not merged while the four would pass the rows allowed; merged once they would not.
    expect(await foldAt(3, { maxMergedRows: 399 })).toMatchObject({ eventsFolded: 100, partsMerged: 0 });
    expect((await recordOf(store)).parts.map((p) => p.rows)).toEqual([100, 100, 100, 100]);
    expect(await foldAt(4, { maxMergedRows: 0 })).toMatchObject({ eventsFolded: 100, partsMerged: 0 });
    // A merging fold killed before its commit changes nothing a reader sees; the next one merges.
    const unmerged = await recordOf(store);
    const killed: ObjectStore = { get: (key) => store.get(key), list: (prefix) => store.list(prefix), delete: (keys) => store.delete(keys), put: (key, body, type, condition) => (key === openHourKey(THE_HOUR) ? Promise.reject(new Error('the fold was killed')) : store.put(key, body, type, condition)) };
    await expect(foldAt(5, { store: killed })).rejects.toThrow('the fold was killed');
    expect(await recordOf(store)).toEqual(unmerged);
    expect(await fold(store, START + 25 * MINUTE + 1_000)).toMatchObject({ eventsFolded: 100, partsMerged: 3 });
    const record = await recordOf(store);
    // The newest three (folds 2 to 4) and the new rows.
    expect(record.parts.map((p) => [p.rows, p.folds])).toEqual([
      [100, undefined],
      [100, undefined],
      [400, 4],
    ]);
    // One row group (its minutes' groups are under MIN_GROUP_ROWS), in session order.
    const merged = await rowsOf(store, [record.parts[2]!.key]);
    expect(new Set(merged.map((r) => r.event_id))).toEqual(new Set(events.slice(200, 600).map((e) => e.id)));
    expect(merged).toEqual([...merged].sort(bySessionThenTime));
    expect(record.parts[2]!.maxIngestMs).toBe(Math.max(...merged.map((r) => r.ingest_time)));
    // The three parts merged away (folds 2 to 4) stay named for the readers that took them, an hour from the merge,
    // so the compactor's sweep leaves them: those readers still read what they read before.
    const mergedAway = unmerged.parts.slice(2).map((p) => p.key);
    expect(record.replaced).toEqual(Object.fromEntries(mergedAway.map((key) => [key, START + 25 * MINUTE + 1_000 + HOUR])));
    await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 1, now: () => Date.now() + HOUR + MINUTE });
    expect((await store.list(`compacted/${THE_HOUR}/f`)).map((o) => o.key).sort()).toEqual([...record.parts.map((p) => p.key), ...mergedAway].sort());
    expect(await rowsOf(store, before.parts.map((p) => p.key))).toEqual(rowsBefore);
    expect(new Set((await rowsOf(store, mergedAway)).map((r) => r.event_id))).toEqual(new Set(events.slice(200, 500).map((e) => e.id)));
    const view = await foldedView(store);
    expect(view.repeated).toBe(0);
    expect(view.parts.sort(byTimeThenId)).toEqual(await compactedRows(store));
    // A bad limit gets one sentence.
    await expect(fold(store, START + 26 * MINUTE, { maxMergedRows: -1 })).rejects.toThrow('maxMergedRows must be a whole number of rows, 0 or more, got -1');
    await expect(fold(store, START + 26 * MINUTE, { maxMergedRows: Number.NaN })).rejects.toThrow('got NaN');
  }, 60_000);

  it('merges a part written again in the same fold for an earlier copy, keeping that copy', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    for (let n = 0; n < 3; n++) {
      await consumeRecords(store, stream.records(0, events.slice(n * 100, (n + 1) * 100).map((e) => e.value)), START + (40 + n) * MINUTE, encodeParquet);
      await fold(store, START + (40 + n) * MINUTE + 1_000);
    }
    // Partition 1 ingested an altered copy of an event of the third part before it, and new events; its write lands now.
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(events[250]!.value.toString()), page_url: 'https://shop.example/first' }));
    await consumeRecords(store, stream.records(1, [changed, ...events.slice(300, 400).map((e) => e.value)]), START + 41 * MINUTE + 30_000, encodeParquet);
    expect(await fold(store, START + 43 * MINUTE + 1_000)).toMatchObject({ eventsFolded: 100, partsRewritten: 1, partsMerged: 3 });
    const view = await foldedView(store);
    expect(view.record.parts.map((p) => [p.rows, p.folds])).toEqual([[400, 4]]);
    expect(view.repeated).toBe(0);
    expect(view.parts.filter((r) => r.page_url === 'https://shop.example/first').map((r) => r.event_id)).toEqual([events[250]!.id]);
    expect(view.parts.sort(byTimeThenId)).toEqual(await compactedRows(store));
  }, 60_000);

  it("keeps a part written again named for a retention, so the compactor's sweep leaves it to the readers that took it, and then deletes it", async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    await consumeRecords(store, stream.records(0, events.slice(0, 100).map((e) => e.value)), START + 40 * MINUTE, encodeParquet);
    await fold(store, START + 41 * MINUTE);
    const [before] = (await recordOf(store)).parts;
    // An earlier copy of one event: the part is written again under a new name.
    const earlier = Buffer.from(JSON.stringify({ ...JSON.parse(events[0]!.value.toString()), page_url: 'https://shop.example/first' }));
    await consumeRecords(store, stream.records(1, [earlier]), START + 39 * MINUTE, encodeParquet);
    expect(await fold(store, START + 42 * MINUTE)).toMatchObject({ partsRewritten: 1 });
    const record = await recordOf(store);
    expect(record.parts.map((p) => p.key)).not.toContain(before!.key);
    expect(record.replaced).toEqual({ [before!.key]: START + 42 * MINUTE + HOUR });
    // The files' ages are the directory's clock: the sweep runs an hour and more after they were written,
    // by a compactor that leaves the hour raw (too big for it), so it stays open to the folds.
    const sweep = () => compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 1, now: () => Date.now() + HOUR + MINUTE });
    const parts = async () => (await store.list(`compacted/${THE_HOUR}/f`)).map((o) => o.key).sort();
    await sweep();
    expect(await parts()).toEqual([...record.parts.map((p) => p.key), before!.key].sort());
    // A fold after the retention drops it from the record; the next sweep deletes it.
    await consumeRecords(store, stream.records(1, [events[300]!.value]), START + 44 * MINUTE, encodeParquet);
    await fold(store, START + 43 * MINUTE + HOUR);
    expect((await recordOf(store)).replaced).toBeUndefined();
    await sweep();
    expect(await parts()).toEqual((await recordOf(store)).parts.map((p) => p.key).sort());
  }, 60_000);

  it("gives a reader of open hours folded the parts of hours not compacted, as compacted files; a reader of raw files, none", async () => {
    const store = newStore();
    await writeAndFold(store);
    const record = await recordOf(store);
    const folded = await storeLakeView(store, 'folded')();
    expect(folded.compacted).toEqual(new Map([[START, record.parts.map((p) => p.key)]]));
    expect((await storeLakeView(store)()).compacted).toEqual(new Map());
    // Once the compactor committed the hour, its compacted files, not the parts (which stay a retention for readers that took them).
    await compactedRows(store);
    const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
    expect((await storeLakeView(store, 'folded')()).compacted).toEqual(new Map([[START, manifest.hours[THE_HOUR]!.files.map((f) => f.key)]]));
  }, 60_000);

  it('reads an hour raw whose record is damaged or whose raw files include names no consumer writes, and folds the other hours', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    const NEXT = hourPartition(START + HOUR);
    await consumeRecords(store, stream.records(0, events.slice(0, 50).map((e) => e.value)), START + 50 * MINUTE, encodeParquet);
    const nextHour = new ShopperSimulator({ seed: 12, startTimeMs: START + HOUR, eventsPerSecond: 1, dailyCurve: false, warmStart: false });
    await consumeRecords(store, stream.records(1, Array.from({ length: 40 }, () => nextHour.nextRecord().value)), START + HOUR + 5 * MINUTE, encodeParquet);
    await store.put(openHourKey(THE_HOUR), Buffer.from('{"version":1,"parts":"none"}'), 'application/json');
    // The damaged hour fails (its sentence says what to do); the next hour is folded all the same.
    await expect(fold(store, START + HOUR + 6 * MINUTE)).rejects.toThrow(`the open-hour record ${openHourKey(THE_HOUR)} is damaged`);
    expect(parseOpenHourRecord(openHourKey(NEXT), (await store.get(openHourKey(NEXT)))?.body).parts).toHaveLength(1);
    const view = await storeLakeView(store, 'folded')();
    expect([...view.compacted.keys()]).toEqual([START + HOUR]);
    // A file someone copied into the next hour by hand, with nothing else new: no offset says whether a fold read it, so readers read the hour raw.
    await store.put(`events/${NEXT}/copied-by-hand.parquet`, (await store.get((await store.list(`events/${NEXT}/`))[0]!.key))!.body, 'application/vnd.apache.parquet');
    await fold(store, START + HOUR + 8 * MINUTE).catch(() => undefined);
    expect(parseOpenHourRecord(openHourKey(NEXT), (await store.get(openHourKey(NEXT)))?.body).unknownFiles).toBe(1);
    expect((await storeLakeView(store, 'folded')()).compacted).toEqual(new Map());
    // The compactor's sweep neither fails on the damaged record nor deletes parts of its hour.
    await store.put(`compacted/${THE_HOUR}/f1-dead-n.parquet`, Buffer.from('part'), 'application/vnd.apache.parquet');
    await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 1, now: () => Date.now() + HOUR + MINUTE });
    expect(await store.get(`compacted/${THE_HOUR}/f1-dead-n.parquet`)).toBeDefined();
  }, 60_000);

  it('marks an hour whose fold fails (a raw file that is not Parquet) so readers read it raw, until a fold succeeds', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    await consumeRecords(store, stream.records(0, events.slice(0, 100).map((e) => e.value)), START + 20 * MINUTE, encodeParquet);
    await fold(store, START + 21 * MINUTE);
    const bad = `events/${THE_HOUR}/${TOPIC}-p0-o100-199.parquet`;
    await store.put(bad, Buffer.from('not parquet'), 'application/vnd.apache.parquet');
    await expect(fold(store, START + 22 * MINUTE)).rejects.toThrow();
    expect((await recordOf(store)).failing).toBeDefined();
    expect((await storeLakeView(store, 'folded')()).compacted).toEqual(new Map());
    // The consumer writes the batch again (a retry overwrites the same name): the next fold reads it, and readers read the parts again.
    await consumeRecords(store, stream.records(0, events.slice(100, 200).map((e) => e.value)), START + 23 * MINUTE, encodeParquet);
    expect(await fold(store, START + 24 * MINUTE)).toMatchObject({ filesFolded: 1, eventsFolded: 100 });
    expect((await recordOf(store)).failing).toBeUndefined();
    expect([...(await storeLakeView(store, 'folded')()).compacted.keys()]).toEqual([START]);
  }, 60_000);

  it('passes a settled hour with every raw file folded by, without listing it again, until the compactor commits it', async () => {
    const store = newStore();
    await writeAndFold(store);
    const listed: string[] = [];
    const counting: ObjectStore = { get: (k) => store.get(k), put: (...a) => store.put(...a), delete: (k) => store.delete(k), list: (prefix) => (listed.push(prefix), store.list(prefix)) };
    expect(await fold(counting, SETTLED_AT)).toMatchObject({ hoursFolded: 0, filesLeft: 0 });
    expect((await recordOf(store)).complete).toBe(true);
    listed.length = 0;
    await fold(counting, SETTLED_AT + HOUR);
    expect(listed.filter((prefix) => prefix.startsWith(`events/${THE_HOUR}`))).toEqual([]);
    // Still read from its parts.
    expect([...(await storeLakeView(store, 'folded')()).compacted.keys()]).toEqual([START]);
  }, 60_000);

  it('leaves a raw file that vanished between the listing and the read, and the later files of its partition, to the next fold', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    for (let b = 0; b < 3; b++) await consumeRecords(store, stream.records(0, events.slice(b * 100, (b + 1) * 100).map((e) => e.value)), START + (20 + b) * MINUTE, encodeParquet);
    const files = (await store.list(`events/${THE_HOUR}/`)).map((o) => o.key).sort((a, b) => Number(rawFileSource(a)!.lastOffset - rawFileSource(b)!.lastOffset));
    // The first file is gone when the fold reads it (a consumer superseding its delivery deletes it, and writes its records again).
    const vanishing: ObjectStore = { ...store, list: (prefix) => store.list(prefix), put: (...a) => store.put(...a), delete: (keys) => store.delete(keys), get: (key) => (key === files[0] ? Promise.resolve(undefined) : store.get(key)) };
    expect(await fold(vanishing, START + 25 * MINUTE)).toMatchObject({ hoursFolded: 0, filesFolded: 0, filesLeft: 3 });
    expect(await fold(store, START + 26 * MINUTE)).toMatchObject({ filesFolded: 3, eventsFolded: 300 });
    expect((await recordOf(store)).folded).toEqual({ [`${TOPIC}/0`]: '299' });
  }, 60_000);

  it('a fold killed before its commit changes nothing a reader sees: the next fold does its work again, and its part goes with the sweep', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    await consumeRecords(store, stream.records(0, events.slice(0, 200).map((e) => e.value)), START + 30 * MINUTE, encodeParquet);
    const killed: ObjectStore = {
      get: (key) => store.get(key),
      list: (prefix) => store.list(prefix),
      delete: (keys) => store.delete(keys),
      put: (key, body, type, condition) => (key === openHourKey(THE_HOUR) ? Promise.reject(new Error('the fold was killed')) : store.put(key, body, type, condition)),
    };
    await expect(fold(killed, START + 31 * MINUTE)).rejects.toThrow('the fold was killed');
    expect(await store.get(openHourKey(THE_HOUR))).toBeUndefined();
    expect(await fold(store, START + 32 * MINUTE)).toMatchObject({ filesFolded: 1, eventsFolded: 200 });
    const view = await foldedView(store);
    expect(view.repeated).toBe(0);
    expect(view.parts).toHaveLength(200);
    await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 1, now: () => Date.now() + HOUR + MINUTE });
    expect((await store.list(`compacted/${THE_HOUR}/f`)).map((o) => o.key)).toEqual(view.record.parts.map((p) => p.key));
  }, 60_000);

  it("a cold fold reads the ids of the hour's parts two at a time, so an hour's end stays within the function's memory", async () => {
    const store = newStore();
    await writeAndFold(store, { maxMergedRows: 0 });
    const parts = (await recordOf(store)).parts.map((p) => p.key);
    expect(parts).toHaveLength(8);
    // Copies of ten events, re-sent from a third partition: the fold must know every part's ids to drop them.
    const copies = events.slice(100, 110).map((e, i) => ({ topic: TOPIC, partition: 2, offset: String(i), value: e.value }));
    await consumeRecords(store, copies, START + HOUR + MINUTE, encodeParquet);
    let [reading, most] = [0, 0];
    const read = new Set<string>();
    const counting: ObjectStore = {
      get: async (key) => {
        if (!parts.includes(key)) return store.get(key);
        read.add(key);
        most = Math.max(most, ++reading);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return store.get(key).finally(() => reading--);
      },
      list: (prefix) => store.list(prefix),
      delete: (keys) => store.delete(keys),
      put: (key, body, type, condition) => store.put(key, body, type, condition),
    };
    // A new instance of the module is a cold function: it holds no part's ids.
    vi.resetModules();
    const cold = await import('../../lambdas/compactor/fold-open-hours.ts');
    const result = await cold.foldOpenHours({ store: counting, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, now: () => START + HOUR + 2 * MINUTE });
    expect(result).toMatchObject({ filesFolded: 1, eventsFolded: 0, duplicatesDropped: 10 });
    expect([...read].sort()).toEqual([...parts].sort());
    expect(most).toBe(2);
  }, 60_000);

  it('of two folds at once one commits; what the other wrote is left to the sweep', async () => {
    const store = newStore();
    const stream = new TwoPartitions();
    await consumeRecords(store, stream.records(0, events.slice(0, 300).map((e) => e.value)), START + 20 * MINUTE, encodeParquet);
    let second: Awaited<ReturnType<typeof foldOpenHours>> | undefined;
    const racing: ObjectStore = {
      get: (key) => store.get(key),
      list: (prefix) => store.list(prefix),
      delete: (keys) => store.delete(keys),
      put: async (key, body, type, condition) => {
        // The other fold commits while this one is about to.
        if (key === openHourKey(THE_HOUR) && !second) second = await fold(store, START + 21 * MINUTE);
        return store.put(key, body, type, condition);
      },
    };
    const first = await fold(racing, START + 21 * MINUTE);
    expect(first.lostRace).toBe(true);
    expect(second).toMatchObject({ hoursFolded: 1, eventsFolded: 300, lostRace: false });
    const record = await recordOf(store);
    const written = (await store.list(`compacted/${THE_HOUR}/f`)).map((o) => o.key);
    expect(written).toHaveLength(2);
    expect(written).toEqual(expect.arrayContaining(record.parts.map((p) => p.key)));
    expect((await foldedView(store)).repeated).toBe(0);
    // The loser's part, named by no record, goes with the compactor's sweep once as old as its retention.
    await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, now: () => Date.now() + HOUR + MINUTE });
    expect((await store.list(`compacted/${THE_HOUR}/f`)).map((o) => o.key)).toEqual(record.parts.map((p) => p.key));
  }, 60_000);

  it("deletes an hour's parts and record once the compactor committed it and no query can still read them", async () => {
    const store = newStore();
    await writeAndFold(store);
    await compactedRows(store);
    expect(await fold(store, SETTLED_AT + 10 * MINUTE)).toMatchObject({ hoursCleared: 0, hoursFolded: 0 });
    expect((await store.list(`compacted/${THE_HOUR}/f`)).length).toBeGreaterThan(0);
    expect(await fold(store, SETTLED_AT + HOUR)).toMatchObject({ hoursCleared: 1 });
    expect(await store.list(`compacted/${THE_HOUR}/f`)).toEqual([]);
    expect(await store.get(openHourKey(THE_HOUR))).toBeUndefined();
  }, 60_000);
});
