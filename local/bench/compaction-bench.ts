/**
 * The compactor on one hour of simulated events in a MinIO of the benchmark's
 * own: objects and bytes before and after, its speed, its peak memory (one run in
 * a process of its own, as in Lambda: compaction-run.ts) in slices and, as the
 * same run's baseline, with the whole hour in one slice (how the compactor held
 * an hour before it worked in slices), what that makes the largest hour a Lambda
 * compacts, the S3 requests it makes per hour (its cloud cost), and the Parquet
 * column sizes of its files beside the consumer's (what Athena bills per refresh,
 * raw against compacted); then a replay of the whole hour as late files (a consumer
 * group reset to its earliest offset), folded a run's share at a time.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_KEY } from '../../lambdas/common/compaction-manifest.ts';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { LAKE_PREFIXES } from '../../lambdas/common/pipeline-names.ts';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { openHourKey, parseOpenHourRecord, type FoldedPart } from '../../lambdas/common/open-hour-record.ts';
import { foldOpenHours } from '../../lambdas/compactor/fold-open-hours.ts';
import { hourOfKey, hourPartition, lateObjectKey } from '../../lambdas/consumer/lake-keys.ts';
import type { CompactionResult } from '../../lambdas/compactor/compact-lake.ts';
import type { S3ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { ROLLUP_NAMES, type RollupName } from '../../lambdas/query/rollups.ts';
import type { LocalConfig } from '../common/config.ts';
import { ensureBucket, localObjectStore, localS3Client, minioCredentials, s3Endpoint, startMinio, stopMinio } from '../services/minio.ts';
import { columnSizes, partOverRead, simulateLake, suffixColumnBytes } from './bench-lake.ts';

const RUN_SCRIPT = fileURLToPath(new URL('./compaction-run.ts', import.meta.url));
const MiB = 2 ** 20;

/** One run, in a process of its own whose JavaScript heap is capped (what forces the garbage collector to keep up, as a function's memory does). */
export interface CompactionRun {
  readonly sliceRows: number;
  readonly heapMiB: number;
  /** Why the run failed (out of memory under the cap), if it did; the figures below are then absent. */
  readonly failed?: string;
  readonly result: CompactionResult;
  readonly seconds: number;
  /** CPU time of the run (user and system), which a busy machine does not inflate as it does the wall time. */
  readonly cpuSeconds: number;
  readonly requests: { readonly get: number; readonly put: number; readonly list: number; readonly deleteCalls: number };
  /** Resident memory of the process before the run (Node and the modules) and at its peak. */
  readonly startRssBytes: number;
  readonly peakRssBytes: number;
}

export interface CompactionBenchResult {
  readonly events: number;
  readonly hours: number;
  readonly before: { readonly objects: number; readonly bytes: number };
  readonly after: { readonly objects: number; readonly bytes: number };
  /** The run in slices: what the figures below describe. */
  readonly result: CompactionResult;
  readonly seconds: number;
  readonly inputEventsPerSecond: number;
  readonly requests: CompactionRun['requests'];
  /**
   * The runs, each in a process of its own: the hour in one slice (the whole hour held, as before
   * slicing: the baseline) and in slices, under the same small heap; and in one slice under the heap
   * of a 3,008 MB function, which says whether slices of a whole hour of this size fit it.
   */
  readonly runs: readonly CompactionRun[];
  /**
   * A replay of every raw file as a late file ingested after the hour settled, folded into the
   * compacted hour by runs as the sliced one (same heap, same slices) until none is left: each run's
   * share, memory and time, beside the sliced run's without it.
   */
  readonly replay: { readonly lateFiles: number; readonly lateBytes: number; readonly runs: readonly CompactionRun[] };
  /** Input Parquet bytes per event, and local disk spilled at the most per event (the sliced run). */
  readonly inputBytesPerEvent: number;
  readonly spillBytesPerEvent: number;
  /** Column bytes per event of the consumer's files and the compactor's, in the dense hour (benchDenseHour). */
  readonly rawColumnBytesPerEvent: Readonly<Record<string, number>>;
  readonly compactedColumnBytesPerEvent: Readonly<Record<string, number>>;
  /** Each rollup's column bytes per event it summarises: what a query reading those columns scans. */
  readonly rollupColumnBytesPerEvent: Readonly<Record<RollupName, Readonly<Record<string, number>>>>;
  /**
   * The dense hour folded while open (fold-open-hours.ts), in this process: a fold per FOLDED_EVENTS
   * of raw files (a minute at the priced rate), each fold's wall and CPU time, the ids its hour held
   * before it and the parts it merged; the column sizes of the parts of a minute (the hour folded
   * again with merging off) and of the parts merged from four (what Athena reads an open hour from),
   * absent when the hour is too small for four folds; and what a range starting inside such a part
   * reads beyond it (partOverRead).
   */
  readonly folded: {
    readonly folds: readonly { readonly events: number; readonly idsHeld: number; readonly seconds: number; readonly cpuSeconds: number; readonly partsMerged: number }[];
    readonly columnBytesPerEvent: Readonly<Record<string, number>>;
    readonly overRead: number;
    readonly merged?: { readonly rows: number; readonly columnBytesPerEvent: Readonly<Record<string, number>>; readonly overRead: number };
  };
  /** The dense hour: its events (written at PRICED_EVENTS_PER_SECOND) and its compaction (a run as the one in slices). */
  readonly dense: { readonly events: number; readonly compaction: CompactionRun };
  /**
   * A range's partial first hour read from the rollups (dashboard-statement.ts, suffixOf): what the
   * suffix from each minute of the hour reads of each column of the hour above's `sessions` rollup, by
   * its last times (suffixColumnBytes), beside that hour's events; and the column bytes per event of
   * the minute rollups in the dense hour, where a minute holds as many events as at the priced rate.
   */
  readonly suffix: {
    readonly sessionsColumnBytes: Readonly<Record<string, readonly number[]>>;
    readonly hourEvents: number;
    readonly minuteRollupColumnBytesPerEvent: Readonly<Record<'activity' | 'product_minutes', Readonly<Record<string, number>>>>;
  };
}

/** The event rate the cost model prices Athena at (index.ts, compactedAthenaCost), and the dense hour's. */
export const PRICED_EVENTS_PER_SECOND = 5_000;
/**
 * The compactor the model prices beside that rate: 3 vCPUs (5,307 MB), the smallest function whose budget
 * (lib/compactor.ts) takes an hour of it in one run (about 720 MiB of Parquet at the 42 bytes an event measured).
 */
export const PRICED_COMPACTOR_VCPUS = 3;
/** A fold's share in the benchmark: a minute of events at PRICED_EVENTS_PER_SECOND. */
export const FOLDED_EVENTS = PRICED_EVENTS_PER_SECOND * 60;

/**
 * The files Athena reads, measured where their events are as dense as the priced rate's: the same
 * number of events as the hour above, written at PRICED_EVENTS_PER_SECOND into the hour before it,
 * folded a minute's events at a time (as if open), then compacted. How well a file's ids compress
 * depends on how many events of each session one of its row groups holds: at the hour above's rate
 * (a million events an hour, 278 a second) a part of 300,000 events held 18 minutes of sessions
 * and a row group of 131,072 rows 8 minutes, where at 5,000 a second they hold one minute and 26
 * seconds, and a refresh read about a quarter more bytes of them (docs/benchmarks.md, "Files as
 * dense as the priced rate"). The rollups stay measured on the hour above: a `sessions` row sums a
 * session's events of its whole hour, which a short dense span would cut (the `activity` and
 * `products` rows, bounded by minutes and products, weigh less per event at 5,000 a second, so the
 * figures over rollups are upper bounds).
 */
async function benchDenseHour(config: LocalConfig, s3: S3Client, store: S3ObjectStore, events: number, hourStart: number, like: CompactionRun, log: (line: string) => void) {
  log(`compaction: writing ${events.toLocaleString('en-US')} events at ${PRICED_EVENTS_PER_SECOND.toLocaleString('en-US')} a second to MinIO (the dense hour)`);
  const lake = await writeSimulatedLake(s3, config.bucket, events, hourStart, (events / PRICED_EVENTS_PER_SECOND) * 1000);
  const hour = hourPartition(hourStart);
  const raw = await store.list(`${LAKE_PREFIXES.events}${hour}/`);
  const rawSample = await mapWithLimit(raw.filter((_, i) => i % 10 === 0), 8, async (o) => (await store.get(o.key))!.body);
  const folded = await foldTheHour(store, hourStart, Math.ceil((lake.bytes * FOLDED_EVENTS) / events), log);
  log('compaction: the dense hour compacted, as the run in slices');
  const compaction = await runCompactor(config, store, like.sliceRows, like.heapMiB, true);
  if (compaction.failed) throw new Error(`the dense hour's compaction failed: ${compaction.failed}`);
  const compacted = (await store.list(`${LAKE_PREFIXES.compacted}${hour}/`)).filter((o) => /\/g[^/]*\.parquet$/.test(o.key));
  const compactedFiles = await mapWithLimit(compacted, 4, async (o) => (await store.get(o.key))!.body);
  const minuteRollup = async (name: 'activity' | 'product_minutes') => columnSizes(await rollupFiles(store, name, hour), events);
  const minuteRollupColumnBytesPerEvent = { activity: await minuteRollup('activity'), product_minutes: await minuteRollup('product_minutes') };
  return { folded, compaction, rawColumnBytesPerEvent: columnSizes(rawSample), compactedColumnBytesPerEvent: columnSizes(compactedFiles), minuteRollupColumnBytesPerEvent };
}

/** A rollup's files of an hour (of its every generation: the benchmark compacts an hour once). */
async function rollupFiles(store: S3ObjectStore, name: RollupName, hour: string): Promise<Uint8Array[]> {
  return mapWithLimit(await store.list(`${LAKE_PREFIXES.rollups}${name}/${hour}/`), 4, async (o) => (await store.get(o.key))!.body);
}

/**
 * One compaction run in a child process (compaction-run.ts), its heap capped at heapMiB; a run that
 * runs out of memory comes back as failed. From the raw lake unless `onto` the lake as it is.
 */
async function runCompactor(config: LocalConfig, store: S3ObjectStore, sliceRows: number, heapMiB: number, onto = false): Promise<CompactionRun> {
  if (!onto) {
    // Back to the raw lake first: the raw files stay an hour after a commit, so only the compactor's output goes.
    const written = (await Promise.all([LAKE_PREFIXES.compacted, LAKE_PREFIXES.rollups].map((p) => store.list(p)))).flat();
    await store.delete([MANIFEST_KEY, ...written.map((o) => o.key)]);
  }
  const args = JSON.stringify({ endpoint: s3Endpoint(config), credentials: minioCredentials(config), bucket: config.bucket, sliceRows });
  return new Promise((resolve) => {
    execFile(process.execPath, [`--max-old-space-size=${heapMiB}`, '--import', import.meta.resolve('tsx'), RUN_SCRIPT, args], { timeout: 1_800_000, maxBuffer: 16 * MiB }, (error, out, err) => {
      if (error) {
        const reason = /heap out of memory|Allocation failed/.exec(err)?.[0] ?? (err.trim().split('\n').at(-1) || error.message);
        return resolve({ sliceRows, heapMiB, failed: reason } as CompactionRun);
      }
      resolve({ sliceRows, heapMiB, ...(JSON.parse(out.trim().split('\n').at(-1)!) as Omit<CompactionRun, 'sliceRows' | 'heapMiB'>) });
    });
  });
}

/**
 * Folds the hour's raw files as if it were open, `maxFoldBytes` of them a fold, until none is left;
 * measures each fold and the parts, then deletes them and their record (the runs start from raw).
 */
async function foldTheHour(store: S3ObjectStore, hourStart: number, maxFoldBytes: number, log: (line: string) => void): Promise<CompactionBenchResult['folded']> {
  // First with merging off: the parts of a minute, all of them, as the baseline; then as the fold runs.
  await foldAll(0);
  const minuteParts = (await partsOf(() => true)).bodies;
  await clear();
  const folds = await foldAll();
  const merged = await partsOf((p) => (p.folds ?? 1) > 1);
  await clear();
  return {
    folds,
    columnBytesPerEvent: columnSizes(minuteParts),
    overRead: await partOverRead(minuteParts),
    ...(merged.rows > 0 && { merged: { rows: merged.rows, columnBytesPerEvent: columnSizes(merged.bodies), overRead: await partOverRead(merged.bodies) } }),
  };

  /** Folds the hour's raw files until none is left. */
  async function foldAll(maxMergedRows?: number) {
    const folds: CompactionBenchResult['folded']['folds'][number][] = [];
    let held = 0;
    for (;;) {
      const [began, cpu] = [performance.now(), process.cpuUsage()];
      const result = await foldOpenHours({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: 3_600_000, maxFoldBytes, ...(maxMergedRows !== undefined && { maxMergedRows }), now: () => hourStart + 30 * 60_000 });
      const used = process.cpuUsage(cpu);
      if (result.filesFolded === 0) break;
      folds.push({ events: result.eventsFolded, idsHeld: held, seconds: (performance.now() - began) / 1000, cpuSeconds: (used.user + used.system) / 1e6, partsMerged: result.partsMerged });
      held += result.eventsFolded;
      log(`compaction: fold ${folds.length}${maxMergedRows === 0 ? ' (merging off)' : ''}, ${result.eventsFolded.toLocaleString('en-US')} events beside ${folds.at(-1)!.idsHeld.toLocaleString('en-US')} held, ${result.partsMerged} parts merged, ${folds.at(-1)!.seconds.toFixed(1)} s`);
    }
    return folds;
  }

  /** The rows and files of the hour's parts (those its record names) that `which` picks. */
  async function partsOf(which: (part: FoldedPart) => boolean): Promise<{ rows: number; bodies: Uint8Array[] }> {
    const key = openHourKey(hourPartition(hourStart));
    const parts = parseOpenHourRecord(key, (await store.get(key))?.body).parts.filter(which);
    return { rows: parts.reduce((n, p) => n + p.rows, 0), bodies: await mapWithLimit(parts, 4, async (p) => (await store.get(p.key))!.body) };
  }

  /** Deletes the hour's parts and record: the runs after start from its raw files. */
  async function clear() {
    const parts = await store.list(`${LAKE_PREFIXES.compacted}${hourPartition(hourStart)}/f`);
    await store.delete([...parts.map((o) => o.key), openHourKey(hourPartition(hourStart))]);
  }
}

/** The sliced run's budget is a fifth of the hour: about five slices, as an hour five times the budget would take. */
const SLICES = 5;
const ONE_SLICE = 2 ** 31;
/** A heap that one slice of the benchmark's hour fits and the whole hour should not. */
const SMALL_HEAP_MIB = 1_024;
/** The JavaScript heap of a 3,008 MB function, leaving room for buffers outside it (files, zstd's memory). */
const LAMBDA_3008_HEAP_MIB = 2_400;

/** Simulated events spread over [startMs, startMs + spanMs), written to the bucket as the consumer writes them (bench-lake.ts). */
export async function writeSimulatedLake(s3: S3Client, bucket: string, events: number, startMs: number, spanMs: number) {
  const pending: { key: string; body: Uint8Array }[] = [];
  const flush = () => mapWithLimit(pending.splice(0), 16, ({ key, body }) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
  const lake = await simulateLake(events, startMs, spanMs, async (key, body) => {
    pending.push({ key, body });
    if (pending.length >= 64) await flush();
  });
  await flush();
  return lake;
}

export async function benchCompaction(config: LocalConfig, events: number, log: (line: string) => void): Promise<CompactionBenchResult> {
  await startMinio(config, log);
  const s3 = localS3Client(config);
  try {
    await ensureBucket(config);
    const hours = 1;
    // Whole hours that ended long enough ago to be settled for the compactor.
    const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - (hours + 1) * 3_600_000;
    log(`compaction: writing ${events.toLocaleString('en-US')} events over ${hours} hours to MinIO`);
    await writeSimulatedLake(s3, config.bucket, events, start, hours * 3_600_000);

    const store = localObjectStore(config);
    const eventObjects = async (prefixes: readonly string[]) => (await Promise.all(prefixes.map((p) => store.list(p)))).flat();
    const raw = await eventObjects([LAKE_PREFIXES.events, LAKE_PREFIXES.late]);
    const inputBytes = raw.reduce((n, o) => n + o.size, 0);
    const runs: CompactionRun[] = [];
    for (const [sliceRows, heapMiB, what] of [
      [ONE_SLICE, SMALL_HEAP_MIB, 'the hour in one slice (the baseline)'],
      [ONE_SLICE, LAMBDA_3008_HEAP_MIB, 'the hour in one slice, under the heap of a 3,008 MB function'],
      [Math.ceil(events / SLICES), SMALL_HEAP_MIB, `the hour in ${SLICES} slices`],
    ] as const) {
      log(`compaction: ${what}, ${heapMiB} MiB of heap, in a process of its own`);
      const run = await runCompactor(config, store, sliceRows, heapMiB);
      log(`compaction: ${run.failed ? `failed: ${run.failed}` : `${run.seconds.toFixed(1)} s, peak RSS ${Math.round(run.peakRssBytes / MiB)} MiB`}`);
      runs.push(run);
    }
    const sliced = runs.at(-1)!;
    if (sliced.failed) throw new Error(`the compaction run in slices failed: ${sliced.failed}`);
    const { result, seconds, requests } = sliced;

    const compacted = await store.list(LAKE_PREFIXES.compacted);
    const rollups = await store.list(LAKE_PREFIXES.rollups);
    const rollupBytes = Object.fromEntries(
      await Promise.all(ROLLUP_NAMES.map(async (name) => [name, columnSizes(await mapWithLimit(rollups.filter((o) => o.key.startsWith(`${LAKE_PREFIXES.rollups}${name}/`)), 4, async (o) => (await store.get(o.key))!.body), result.rowsWritten)])),
    ) as Record<RollupName, Record<string, number>>;
    const sessionsColumnBytes = suffixColumnBytes(await rollupFiles(store, 'sessions', hourPartition(start)), start, 'last_time');

    // The replay: every raw file again, as the late file a consumer reading the topic from its start
    // writes, ingested an hour ago (settled); folded onto the compacted hour.
    const ingestMs = Date.now() - 3_600_000;
    const rawEvents = raw.filter((o) => o.key.startsWith(LAKE_PREFIXES.events));
    await mapWithLimit([...rawEvents.entries()], 8, async ([i, o]) => {
      const [, topic, partition, first, last] = /([^/]+)-p(\d+)-o(\d+)-(\d+)\.parquet$/.exec(o.key)!;
      await store.put(lateObjectKey(ingestMs + i, `replay-${topic}`, Number(partition), first!, last!, [hourOfKey(o.key)!]), Buffer.from((await store.get(o.key))!.body), 'application/vnd.apache.parquet');
    });
    const replayRuns: CompactionRun[] = [];
    for (let i = 0; i < 6; i++) {
      log(`compaction: folding a replay of ${rawEvents.length} late files, run ${i + 1}`);
      const run = await runCompactor(config, store, sliced.sliceRows, sliced.heapMiB, true);
      replayRuns.push(run);
      if (run.failed || run.result.lateFilesLeft === 0) break;
    }
    const dense = await benchDenseHour(config, s3, store, events, start - 3_600_000, sliced, log);
    // The pipeline's phase starts from an empty lake: this one, left, was counted in its objects per
    // event and compacted by its consumer while freshness was measured.
    await store.delete((await store.list('')).map((o) => o.key));
    return {
      events,
      hours,
      before: { objects: raw.length, bytes: inputBytes },
      after: { objects: compacted.length, bytes: compacted.reduce((n, o) => n + o.size, 0) },
      result,
      seconds,
      inputEventsPerSecond: events / seconds,
      requests,
      runs,
      replay: { lateFiles: rawEvents.length, lateBytes: rawEvents.reduce((n, o) => n + o.size, 0), runs: replayRuns },
      inputBytesPerEvent: inputBytes / events,
      spillBytesPerEvent: result.peakSpillBytes / events,
      rawColumnBytesPerEvent: dense.rawColumnBytesPerEvent,
      compactedColumnBytesPerEvent: dense.compactedColumnBytesPerEvent,
      rollupColumnBytesPerEvent: rollupBytes,
      folded: dense.folded,
      dense: { events, compaction: dense.compaction },
      suffix: { sessionsColumnBytes, hourEvents: events / hours, minuteRollupColumnBytesPerEvent: dense.minuteRollupColumnBytesPerEvent },
    };
  } finally {
    s3.destroy();
    await stopMinio(config);
  }
}
