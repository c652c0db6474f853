/** The compactor's pure parts: settings, the manifest's format, merging and cutting rows. */
import { describe, expect, it } from 'vitest';
import { EMPTY_MANIFEST, lakeView, parseManifest, readableEventKeys, serializeManifest, type Manifest } from '../../lambdas/common/compaction-manifest.ts';
import { LAKE_COLUMNS } from '../../lambdas/common/lake-columns.ts';
import { bySession, mergeRows, rowGroupsBySessionEnd, splitRows } from '../../lambdas/compactor/merge-rows.ts';
import { compactorSettingsFromEnv, DEFAULT_COMPACTOR_SETTINGS } from '../../lambdas/compactor/settings.ts';
import type { LakeRow } from '../../lambdas/consumer/plan-batch.ts';

const row = (id: string, time: number, ingest: number) => ({ event_id: id, event_time: time, ingest_time: ingest, source_offset: `${id}@${ingest}` }) as unknown as LakeRow;
const H10 = 'year=2026/month=12/day=03/hour=10';

describe('compactor settings', () => {
  it('has defaults and reads each setting', () => {
    expect(compactorSettingsFromEnv({})).toEqual(DEFAULT_COMPACTOR_SETTINGS);
    expect(compactorSettingsFromEnv({ CLICKSTREAM_COMPACTION_RETENTION_SECONDS: '7200', CLICKSTREAM_COMPACTION_MAX_HOUR_MIB: '50', CLICKSTREAM_COMPACTION_SLICE_ROWS: '250000', CLICKSTREAM_COMPACTION_FILE_MIB: '64', CLICKSTREAM_COMPACTION_WORKERS: '6' })).toEqual({
      retentionMs: 7_200_000,
      maxHourBytes: 50 * 2 ** 20,
      sliceRows: 250_000,
      targetFileBytes: 64 * 2 ** 20,
      workers: 6,
    });
  });

  it.each([
    ['CLICKSTREAM_COMPACTION_RETENTION_SECONDS', '0', 'seconds from 1200 to 604800'],
    ['CLICKSTREAM_COMPACTION_RETENTION_SECONDS', '1199', 'seconds from 1200 to 604800'],
    ['CLICKSTREAM_COMPACTION_RETENTION_SECONDS', '1h', 'seconds from 1200 to 604800'],
    ['CLICKSTREAM_COMPACTION_MAX_HOUR_MIB', '-1', 'MiB from 1 to 1000000'],
    ['CLICKSTREAM_COMPACTION_SLICE_ROWS', '999', 'rows from 1000 to 100000000'],
    ['CLICKSTREAM_COMPACTION_FILE_MIB', '2048', 'MiB from 1 to 1024'],
    ['CLICKSTREAM_COMPACTION_WORKERS', '0', 'threads from 1 to 64'],
  ])('refuses %s=%s with one sentence naming it', (name, value, range) => {
    expect(() => compactorSettingsFromEnv({ [name]: value })).toThrow(`${name} must be a whole number of ${range}, got "${value}"`);
  });
});

describe('the compaction manifest', () => {
  it('reads what it writes, and an absent one as empty', () => {
    const manifest: Manifest = { version: 1, hours: { [H10]: { generation: 2, files: [{ key: `compacted/${H10}/g2-a-0.parquet`, rows: 5, bytes: 100 }], rows: 5, committedAtMs: 1 } }, folded: { 'late/x': 9 }, garbage: {} };
    expect(parseManifest(new TextEncoder().encode(serializeManifest(manifest)))).toEqual(manifest);
    expect(parseManifest(undefined)).toEqual(EMPTY_MANIFEST);
  });

  it('refuses a damaged or unknown manifest with what to do, rather than reading it as empty', () => {
    expect(() => parseManifest(new TextEncoder().encode('{"version":1,'))).toThrow(/is not JSON: restore it from the bucket's versions, or delete it to compact every hour again/);
    expect(() => parseManifest(new TextEncoder().encode('{"version":2,"hours":{}}'))).toThrow(/has an unknown format \(version 2\): this code reads version 1/);
    // A version 1 manifest with a field of the wrong shape (the fields added later too): refused, not half read.
    const v1 = { version: 1, hours: {}, folded: {}, garbage: {} };
    for (const damaged of [{ folded: [] }, { hours: { [H10]: { lateKeys: 'late/a' } } }, { stuck: [1] }]) {
      expect(() => parseManifest(new TextEncoder().encode(JSON.stringify({ ...v1, ...damaged })))).toThrow(/is damaged \(a field has the wrong shape\): restore it from the bucket's versions, or delete it/);
    }
  });

  it('gives readers the committed files and the late files not folded, and nothing else', () => {
    const rollups = { sessions: `rollups/sessions/${H10}/g1-a.parquet`, activity: `rollups/activity/${H10}/g1-a.parquet`, products: `rollups/products/${H10}/g1-a.parquet` };
    const h11 = 'year=2026/month=12/day=03/hour=11';
    const manifest: Manifest = {
      version: 1,
      hours: {
        [H10]: { generation: 1, files: [{ key: `compacted/${H10}/g1-a-0.parquet`, rows: 5, bytes: 100 }], rows: 5, committedAtMs: 1, rollups },
        // Compacted before rollups existed: read from its compacted files until the next run adds them.
        [h11]: { generation: 1, files: [{ key: `compacted/${h11}/g1-a-0.parquet`, rows: 5, bytes: 100 }], rows: 5, committedAtMs: 1 },
      },
      folded: { 'late/a': 9 },
      garbage: {},
    };
    expect(lakeView(manifest, ['late/a', 'late/b'])).toEqual({
      compacted: new Map([
        [Date.UTC(2026, 11, 3, 10), [`compacted/${H10}/g1-a-0.parquet`]],
        [Date.UTC(2026, 11, 3, 11), [`compacted/${h11}/g1-a-0.parquet`]],
      ]),
      rollups: new Map([[Date.UTC(2026, 11, 3, 10), rollups]]),
      unfoldedLate: ['late/b'],
    });
    const raw = [`events/${H10}/t-p0-o1-2.parquet`, `events/${h11}/t-p0-o3-4.parquet`, 'events/year=2026/month=12/day=03/hour=12/t-p0-o5-6.parquet'];
    expect(readableEventKeys(manifest, { raw, late: ['late/a', 'late/b'] })).toEqual([`compacted/${H10}/g1-a-0.parquet`, `compacted/${h11}/g1-a-0.parquet`, raw[2], 'late/b']);
  });
});

describe('mergeRows and splitRows', () => {
  it('keeps one row per event, the first to arrive, sorted by event time then id', () => {
    const { rows, duplicatesDropped } = mergeRows([
      [row('b', 20, 105), row('a', 20, 100)],
      [row('c', 10, 101), row('b', 20, 102)],
    ]);
    expect(rows.map((r) => [r.event_id, r.ingest_time])).toEqual([['c', 101], ['a', 100], ['b', 102]]);
    expect(duplicatesDropped).toBe(1);
  });

  it('keeps, of copies ingested in the same millisecond, the first by source, whatever order they are read in', () => {
    const copy = (topic: string, partition: number, offset: string, user: string) => ({ ...row('e', 20, 100), source_topic: topic, source_partition: partition, source_offset: offset, user_id: user });
    const copies = [copy('t', 2, '5', 'partition 2'), copy('t', 1, '9', 'partition 1, offset 9'), copy('t', 1, '10', 'partition 1, offset 10'), copy('u', 0, '1', 'topic u')];
    // Offsets compare as text, as SQL compares the VARCHAR column: a tie-break every reader makes alike, not an order of arrival.
    for (const order of [copies, [...copies].reverse()]) expect(mergeRows([order]).rows.map((r) => r.user_id)).toEqual(['partition 1, offset 10']);
  });

  it("puts a row group's rows in session order, then time and id, every column moved with its row, whatever the order they came in", () => {
    const columns = (rows: readonly (readonly [string, number, string])[]) => LAKE_COLUMNS.map((c) => rows.map(([session, time, id]) => ({ session_id: session, event_time: time, event_id: id })[c.name as 'session_id'] ?? `${c.name}:${id}`));
    const rows = [['s2', 10, 'a'], ['s1', 30, 'b'], ['s2', 5, 'c'], ['s1', 30, 'a'], ['s3', 1, 'd']] as const;
    const expected = columns([['s1', 30, 'a'], ['s1', 30, 'b'], ['s2', 5, 'c'], ['s2', 10, 'a'], ['s3', 1, 'd']]);
    expect(bySession(columns(rows))).toEqual(expected);
    expect(bySession(columns([...rows].reverse()))).toEqual(expected);
    expect(bySession(LAKE_COLUMNS.map(() => []))).toEqual(LAKE_COLUMNS.map(() => []));
  });

  it("cuts a part's rows, merged from runs in session order, into row groups by the minute each session ends, joining groups under the size given to the next", () => {
    const MIN = 60_000;
    const columns = (rows: readonly (readonly [string, number, string])[]) => LAKE_COLUMNS.map((c) => rows.map(([session, time, id]) => ({ session_id: session, event_time: time, event_id: id })[c.name as 'session_id'] ?? `${c.name}:${id}`));
    // Three runs, each in session order (a part's two row groups and a fold's new rows); sessions span runs.
    const runs = [
      columns([['s1', 0, 'a'], ['s3', 1 * MIN, 'b'], ['s4', 3 * MIN + 5, 'c']]),
      columns([['s2', 2 * MIN, 'd'], ['s3', 2 * MIN + 1, 'e']]),
      columns([['s1', 2 * MIN + 7, 'f'], ['s2', 30, 'g'], ['s5', 0, 'h'], ['s5', 1, 'i']]),
    ];
    const groups = [...rowGroupsBySessionEnd(runs, 1)];
    // s5 ends in minute 0; s1, s2, s3 in minute 2; s4 in minute 3. Each group in session order, each session whole.
    expect(groups).toEqual([
      columns([['s5', 0, 'h'], ['s5', 1, 'i']]),
      columns([['s1', 0, 'a'], ['s1', 2 * MIN + 7, 'f'], ['s2', 30, 'g'], ['s2', 2 * MIN, 'd'], ['s3', 1 * MIN, 'b'], ['s3', 2 * MIN + 1, 'e']]),
      columns([['s4', 3 * MIN + 5, 'c']]),
    ]);
    // Groups under three rows join the next (the last stays as it is): session order kept across the join.
    expect([...rowGroupsBySessionEnd(runs, 3)]).toEqual([
      columns([['s1', 0, 'a'], ['s1', 2 * MIN + 7, 'f'], ['s2', 30, 'g'], ['s2', 2 * MIN, 'd'], ['s3', 1 * MIN, 'b'], ['s3', 2 * MIN + 1, 'e'], ['s5', 0, 'h'], ['s5', 1, 'i']]),
      columns([['s4', 3 * MIN + 5, 'c']]),
    ]);
    expect([...rowGroupsBySessionEnd(runs)]).toHaveLength(1);
    expect([...rowGroupsBySessionEnd([LAKE_COLUMNS.map(() => [])])]).toEqual([]);
  });

  it('cuts rows into the fewest consecutive slices of at most the size given', () => {
    const rows = Array.from({ length: 10 }, (_, i) => i);
    expect(splitRows(rows, 4)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(splitRows(rows, 5)).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    expect(splitRows([], 4)).toEqual([[]]);
    expect(() => splitRows(rows, 0)).toThrow(/maxRows must be at least 1/);
  });
});
