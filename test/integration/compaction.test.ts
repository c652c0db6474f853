/**
 * The compactor against the real MinIO, with the local engine (DuckDB over a
 * mirror of the bucket) reading all the while: every named query must give the
 * answer it gave over the raw files, before, during and after compaction, when
 * the compactor is SIGKILLed midway (the bundled Lambda, in a process of its
 * own), when two run at once, and when a late event arrives for an hour already
 * compacted. Athena's side of the protocol (the SQL with the manifest's view)
 * runs on Trino in trino-queries.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MANIFEST_KEY, parseManifest } from '../../lambdas/common/compaction-manifest.ts';
import { LAKE_PREFIXES } from '../../lambdas/common/pipeline-names.ts';
import { compactLake, type CompactorOptions } from '../../lambdas/compactor/compact-lake.ts';
import { readLakeRows } from '../../lambdas/compactor/parquet-reader.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { S3ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { QueryApi } from '../../lambdas/query/query-api.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { bundleLambda } from '../../local/common/bundle.ts';
import { DuckDbLake } from '../../local/lake/duckdb-lake.ts';
import { LakeMirror } from '../../local/lake/lake-mirror.ts';
import { compactInOwnProcess } from '../../local/consume/compaction-loop.ts';
import { handlerEnv } from '../../local/consume/consumer-service.ts';
import { answerDifferences } from './helpers.ts';
import { localObjectStore, localS3Client } from '../../local/services/minio.ts';

const config = inject('config');
const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Three hours of events, days in the past: every hour is settled for the compactor. */
const START = Date.UTC(2026, 10, 20, 10);
const END = START + 3 * HOUR;
const RANGE = { from: String(START - HOUR), to: String(END + HOUR) };
const TIMING = { lateAfterMs: 10 * MINUTE, writeDeadlineMs: 6 * MINUTE };

const bucket = `clickstream-compaction-${randomBytes(4).toString('hex')}`;
let s3: S3Client;
let store: S3ObjectStore;
let dir: string;
let mirror: LakeMirror;
let lake: DuckDbLake;
let api: QueryApi;
/** The dashboard over the raw files, before any compaction: what every later answer must equal. */
let before: string;
let offset = 0;

const options = (overrides: Partial<CompactorOptions> = {}): CompactorOptions => ({
  store,
  timing: TIMING,
  retentionMs: HOUR,
  maxHourBytes: 64 * 2 ** 20,
  // Small files, so an hour is several of them and a run has many steps to be killed between.
  targetFileBytes: 64 * 1024,
  rowGroupRows: 1_000,
  ...overrides,
});

function records(values: readonly Buffer[]): SourceRecord[] {
  return values.map((value) => ({ topic: 'compaction.test', partition: 0, offset: String(offset++), value }));
}

/** The dashboard's answer now, with the time it was generated taken out. */
async function dashboard(): Promise<string> {
  await lake.apply((await mirror.sync()).changes);
  const response = await api.handlePath('/api/dashboard', RANGE);
  expect(response.statusCode, response.body).toBe(200);
  return response.body.replace(/"generatedAt":"[^"]*"/g, '"generatedAt":null');
}

/** The same answer: every figure equal, sums of doubles to the last bits' rounding. */
function expectSame(actual: string, expected: string): void {
  expect(answerDifferences(JSON.parse(actual), JSON.parse(expected), 'dashboard')).toEqual([]);
}

async function keys(prefix: string): Promise<string[]> {
  return (await store.list(prefix)).map((o) => o.key);
}

async function manifest() {
  return parseManifest((await store.get(MANIFEST_KEY))?.body);
}

beforeAll(async () => {
  s3 = localS3Client(config);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  store = localObjectStore(config, bucket);
  // Written as a live consumer would: batches of 500, each ingested a minute after its newest event,
  // with re-sent copies and malformed records; then a replay of the first hour, two hours late.
  const sim = new ShopperSimulator({ seed: 1107, startTimeMs: START, eventsPerSecond: 0.5, dailyCurve: false, warmStart: true, inject: { duplicates: 0.03, malformed: 0.01 } });
  const sent: { value: Buffer; time: number }[] = [];
  for (;;) {
    const r = sim.nextRecord();
    const time = r.event?.event_time ?? sent.at(-1)?.time ?? START;
    if (time >= END) break;
    sent.push({ value: r.value, time });
  }
  for (let i = 0; i < sent.length; i += 500) {
    const batch = sent.slice(i, i + 500);
    await consumeRecords(store, records(batch.map((r) => r.value)), Math.max(...batch.map((r) => r.time)) + MINUTE, encodeParquet, TIMING);
  }
  const firstHour = sent.filter((r) => r.time < START + HOUR).slice(0, 300);
  await consumeRecords(store, records(firstHour.map((r) => r.value)), START + 3 * HOUR, encodeParquet, TIMING);
  expect((await keys(LAKE_PREFIXES.late)).length).toBeGreaterThan(0);

  dir = mkdtempSync(join(tmpdir(), 'clickstream-compaction-'));
  mirror = new LakeMirror(s3, bucket, dir);
  await mirror.sync();
  lake = await DuckDbLake.open(dir, { files: mirror.keys() });
  api = new QueryApi({ engine: lake, cacheMs: 0, now: () => END + HOUR });
  before = await dashboard();
}, 120_000);

afterAll(async () => {
  await lake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (s3) {
    const all = await keys('');
    for (let i = 0; i < all.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: all.slice(i, i + 1000).map((Key) => ({ Key })) } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  }
});

describe('compaction', () => {
  it("survives a SIGKILL midway: the answers stay, and a rerun by the local runtime's runner finishes the job", async () => {
    const bundle = await bundleLambda('compactor');
    const env = { ...handlerEnv({ ...config, bucket }), CLICKSTREAM_COMPACTION_FILE_MIB: '1', PATH: process.env.PATH ?? '' };
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { handler } = await import(${JSON.stringify(bundle)}); await handler();`], { env, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const deadline = Date.now() + 60_000;
    while ((await keys(LAKE_PREFIXES.compacted)).length === 0) {
      if (Date.now() > deadline) throw new Error('the compactor wrote no file within 60 s');
      await sleep(20);
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expectSame(await dashboard(), before);

    // As the consumer of `clickstream run` starts the next run: the same bundle, in a process of its own.
    const rerun = await compactInOwnProcess(bundle, env)(new AbortController().signal);
    expect(rerun.lostRace).toBe(false);
    expectSame(await dashboard(), before);
    const m = await manifest();
    expect(Object.keys(m.hours).sort()).toEqual(['year=2026/month=11/day=20/hour=10', 'year=2026/month=11/day=20/hour=11', 'year=2026/month=11/day=20/hour=12']);
    // The late file's rows are in hour 10's files now: it is marked folded.
    expect(Object.keys(m.folded).sort()).toEqual((await keys(LAKE_PREFIXES.late)).sort());
  });

  it('keeps one row per event in the committed files, each row group in session order', async () => {
    const m = await manifest();
    const ids = new Set<string>();
    let rows = 0;
    for (const hour of Object.values(m.hours)) {
      for (const file of hour.files) {
        const body = (await store.get(file.key))!.body;
        const read = await readLakeRows(body);
        expect(read.length).toBe(file.rows);
        let start = 0;
        for (const group of parquetMetadata(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer).row_groups) {
          const rowsOfGroup = read.slice(start, (start += Number(group.num_rows)));
          for (let i = 1; i < rowsOfGroup.length; i++) expect(rowsOfGroup[i]!.session_id >= rowsOfGroup[i - 1]!.session_id).toBe(true);
        }
        for (const r of read) ids.add(r.event_id);
        rows += read.length;
      }
    }
    expect(ids.size).toBe(rows);
    const kpis = JSON.parse(before) as { panels: { kpis: { rows: [{ events: number }] } } };
    expect(rows).toBe(kpis.panels.kpis.rows[0].events);
  });

  it('lets only one of two compactors commit, and the answers stay through both', async () => {
    // A late batch first, so both have work: copies of known events and ten new ones for hour 11.
    const sim = new ShopperSimulator({ seed: 2207, startTimeMs: START + HOUR + 5 * MINUTE, eventsPerSecond: 0.5, dailyCurve: false, warmStart: false });
    const fresh = Array.from({ length: 10 }, () => sim.nextRecord()).filter((r) => r.event).map((r) => r.value);
    const copies = (await readLakeRows((await store.get((await manifest()).hours['year=2026/month=11/day=20/hour=11']!.files[0]!.key))!.body)).slice(0, 50);
    await consumeRecords(store, records([...copies.map((r) => Buffer.from(JSON.stringify(eventOf(r as unknown as Record<string, unknown>)))), ...fresh]), END + 2 * HOUR, encodeParquet, TIMING);
    const withLate = await dashboard();
    const events = (body: string) => (JSON.parse(body) as { panels: { kpis: { rows: [{ events: number }] } } }).panels.kpis.rows[0].events;
    expect(events(withLate)).toBe(events(before) + fresh.length);

    const readers = (async () => {
      for (let i = 0; i < 5; i++) expectSame(await dashboard(), withLate);
    })();
    const [a, b] = await Promise.all([compactLake(options()), compactLake(options())]);
    await readers;
    expect([a.lostRace, b.lostRace].filter(Boolean).length).toBeLessThanOrEqual(1);
    expectSame(await dashboard(), withLate);
    const m = await manifest();
    expect(m.hours['year=2026/month=11/day=20/hour=11']!.generation).toBe(2);
    // Every compacted file is the committed generation's or a superseded one awaiting deletion, or no
    // manifest names it: the killed run's (generation 1) and the loser's, of the generation both wrote,
    // which it leaves to the sweep (a 412 may answer the retry of a commit that landed); the next test
    // sees both swept once the retention has passed.
    const named = new Set([...Object.values(m.hours).flatMap((h) => h.files.map((f) => f.key)), ...Object.keys(m.garbage)]);
    const unnamed = (await keys(LAKE_PREFIXES.compacted)).filter((k) => !named.has(k));
    expect(unnamed.filter((k) => !/\/g1-/.test(k) && !/hour=11\/g2-/.test(k))).toEqual([]);
    if (a.lostRace || b.lostRace) expect(unnamed.filter((k) => /hour=11\/g2-/.test(k)).length).toBeGreaterThan(0);
  });

  it('deletes what it replaced once the retention has passed, and the answers stay', async () => {
    const answer = await dashboard();
    const later = Date.now() + 2 * HOUR;
    const result = await compactLake(options({ now: () => later }));
    expect(result.filesDeleted).toBeGreaterThan(0);
    const m = await manifest();
    expect(await keys(LAKE_PREFIXES.events)).toEqual([]);
    expect(await keys(LAKE_PREFIXES.late)).toEqual([]);
    expect(m.garbage).toEqual({});
    expect(m.folded).toEqual({});
    expect((await keys(LAKE_PREFIXES.compacted)).sort()).toEqual(Object.values(m.hours).flatMap((h) => h.files.map((f) => f.key)).sort());
    // One object per target size of the hour's data (64 KiB here), give or take the estimate of the last one.
    for (const h of Object.values(m.hours)) {
      const bytes = h.files.reduce((n, f) => n + f.bytes, 0);
      expect(h.files.length, JSON.stringify(h.files)).toBeLessThanOrEqual(Math.ceil(bytes / (64 * 1024)) + 1);
    }
    expectSame(await dashboard(), answer);
  });
});

/** A lake row back to the event the tracker sent: without the consumer's lineage columns. */
function eventOf(row: Record<string, unknown>): Record<string, unknown> {
  const { source_topic: _t, source_partition: _p, source_offset: _o, ingest_time: _i, ...event } = row;
  return event;
}
