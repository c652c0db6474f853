/**
 * End to end on this machine, everything co-located: the simulator and
 * producer, the Kafka broker, the event-source-mapping runner with the bundled
 * handler, MinIO, and the dashboard's own lake sync into DuckDB.
 *
 * The producer starts warm (the sessions a running shop has open), so it is at
 * its rate from the first second; the warm-up walk happens before its clock starts.
 *
 * - Sustained rate: a ladder of flat producing rates, each held for a while;
 *   a rate is kept up with when the producer reaches it and the consumer has
 *   committed everything within a few seconds of the producer stopping (lag
 *   stays bounded rather than growing). The highest such rate is the figure.
 * - Freshness: at a fixed moderate rate, for every event, the time from its
 *   event_time (the producer sends each event when its time comes) until a
 *   dashboard sync loop (LakeMirror + DuckDbLake at the server's interval) can
 *   query it. Baseline: the configured floor, batching window + sync interval.
 *   Measured twice: with no compaction running, and while a compaction run
 *   competes for the cores (the consumer runs no loop of its own here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { HOUR_MS } from '../../lambdas/common/lake-timing.ts';
import { bundleLambda } from '../common/bundle.ts';
import type { LocalConfig } from '../common/config.ts';
import { compactInOwnProcess } from '../consume/compaction-loop.ts';
import { pipelineLag, waitForCaughtUp } from '../consume/consumer-lag.ts';
import { handlerEnv } from '../consume/consumer-service.ts';
import { DuckDbLake } from '../lake/duckdb-lake.ts';
import { LakeMirror } from '../lake/lake-mirror.ts';
import { LakeInventoryReader } from '../lake/lake-inventory.ts';
import { produce } from '../produce/produce.ts';
import { LAKE_SYNC_INTERVAL_MS } from '../serve/query-server.ts';
import { bootstrapServers } from '../services/kafka.ts';
import { localS3Client } from '../services/minio.ts';
import { writeSimulatedLake } from './compaction-bench.ts';
import { percentile } from './stats.ts';

export interface RateStep {
  readonly targetPerSecond: number;
  readonly producedPerSecond: number;
  /** Records still uncommitted when the producer stopped. */
  readonly lagAtStop: number;
  /** Seconds after the producer stopped until the consumer had committed everything (null: not within the limit). */
  readonly drainSeconds: number | null;
  readonly keptUp: boolean;
}

export interface Freshness {
  readonly ratePerSecond: number;
  readonly events: number;
  /** Seconds of events measured: those whose event_time lies in them. */
  readonly measuredSeconds: number;
  readonly p50Seconds: number;
  readonly p95Seconds: number;
  readonly p99Seconds: number;
  /** Baseline: batching window + the dashboard's sync interval, the wait built into the design. */
  readonly floorSeconds: number;
}

export interface PipelineBenchResult {
  readonly stepSeconds: number;
  readonly steps: readonly RateStep[];
  /** The highest rate kept up with. */
  readonly sustainedEventsPerSecond: number;
  /** With no compaction running: most of the time. */
  readonly freshness: Freshness;
  /** While a compaction run compacts a settled hour of `events`, started as the consumer's loop starts it. */
  readonly freshnessDuringCompaction: Freshness & { readonly compactedEvents: number; readonly compactionSeconds: number };
  /** Lake objects written per million events over the whole run (for the cost model). */
  readonly objectsPerMillionEvents: number;
}

const DRAIN_LIMIT_SECONDS = 5;
const FRESHNESS_SETTLE_MS = 5_000;

export async function benchPipeline(
  config: LocalConfig,
  options: { rates: readonly number[]; stepSeconds: number; freshnessRate: number; freshnessSeconds: number; compactionEvents: number },
  log: (line: string) => void,
): Promise<PipelineBenchResult> {
  const servers = [bootstrapServers(config)];
  let seed = 1;
  let produced = 0;
  const steps: RateStep[] = [];
  for (const rate of options.rates) {
    const summary = await produce({ bootstrapServers: servers, topic: config.topic, rate, dailyCurve: false, durationSeconds: options.stepSeconds, seed: seed++ });
    produced += summary.sent;
    if (summary.errors > 0) log(`end to end at ${rate}/s: ${summary.errors} records not acknowledged (${summary.lastError ?? 'no reason given'})`);
    const lagAtStop = (await pipelineLag(config)).reduce((n, p) => n + p.lag, 0);
    const drainStarted = performance.now();
    const drained = await waitForCaughtUp(config, DRAIN_LIMIT_SECONDS * 1000);
    const step: RateStep = {
      targetPerSecond: rate,
      producedPerSecond: summary.sent / options.stepSeconds,
      lagAtStop,
      drainSeconds: drained ? (performance.now() - drainStarted) / 1000 : null,
      keptUp: drained && summary.sent >= 0.95 * rate * options.stepSeconds,
    };
    steps.push(step);
    log(`end to end at ${rate.toLocaleString('en-US')}/s: produced ${Math.round(step.producedPerSecond).toLocaleString('en-US')}/s, lag at stop ${lagAtStop.toLocaleString('en-US')}, ${step.keptUp ? 'kept up' : 'fell behind'}`);
    if (!step.keptUp) {
      // Let it finish before the next measurement, so the backlog does not count against it.
      await waitForCaughtUp(config, 120_000);
      break;
    }
  }

  const freshness = await measureFreshness(config, options.freshnessRate, seed++, log, () => sleep(options.freshnessSeconds * 1000));
  produced += freshness.events;
  const s3 = localS3Client(config);
  try {
    // Before the settled hour below is written: only what the consumer wrote.
    const inventory = await new LakeInventoryReader(s3, config.bucket).read();
    const freshnessDuringCompaction = await duringCompaction(config, s3, options, seed, log);
    return {
      stepSeconds: options.stepSeconds,
      steps,
      sustainedEventsPerSecond: Math.max(0, ...steps.filter((s) => s.keptUp).map((s) => s.targetPerSecond)),
      freshness,
      freshnessDuringCompaction,
      objectsPerMillionEvents: (inventory.eventObjects / Math.max(1, produced)) * 1e6,
    };
  } finally {
    s3.destroy();
  }
}

/**
 * Freshness while the compactor compacts a settled hour of `compactionEvents`: the bundle the consumer's
 * loop runs, in a process of its own as the loop runs it, so it competes for the cores as it would. On a
 * laptop at 1,000 events a second, an hour is a run of 3.6 million events, once an hour.
 */
async function duringCompaction(config: LocalConfig, s3: S3Client, options: { freshnessRate: number; compactionEvents: number }, seed: number, log: (line: string) => void): Promise<PipelineBenchResult['freshnessDuringCompaction']> {
  const hourStart = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
  log(`freshness during a compaction: writing a settled hour of ${options.compactionEvents.toLocaleString('en-US')} events`);
  await writeSimulatedLake(s3, config.bucket, options.compactionEvents, hourStart, HOUR_MS);
  // The function's environment only, as the consumer gives its runs: an AWS setting of the user's shell
  // (a session token, a profile) must not reach MinIO.
  const compact = compactInOwnProcess(await bundleLambda('compactor'), { PATH: process.env.PATH ?? '', ...handlerEnv(config) });
  let compactionSeconds = 0;
  const freshness = await measureFreshness(config, options.freshnessRate, seed, log, async () => {
    const started = performance.now();
    const result = await compact(new AbortController().signal);
    compactionSeconds = (performance.now() - started) / 1000;
    // The hour's sessions run into the next, settled too: its rows are the events written, across two hours.
    if (result.rowsWritten < options.compactionEvents) throw new Error(`the compaction run wrote ${result.rowsWritten} rows, not the ${options.compactionEvents} events written for it`);
  });
  return { ...freshness, compactedEvents: options.compactionEvents, compactionSeconds };
}

/**
 * Freshness of the events sent at `rate` while `during` runs: for each, from its event_time (the producer
 * sends each event when its time comes) until a dashboard sync loop (LakeMirror + DuckDbLake at the
 * server's interval) can query it. `during` starts once the runner and the sync loop have settled in,
 * and the producer stops when it ends.
 */
async function measureFreshness(config: LocalConfig, rate: number, seed: number, log: (line: string) => void, during: () => Promise<void>): Promise<Freshness> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-freshness-'));
  const s3 = localS3Client(config);
  const mirror = new LakeMirror(s3, config.bucket, dir);
  await mirror.sync();
  const lake = await DuckDbLake.open(dir, { files: mirror.keys() });
  const samples: number[] = [];
  const stopProducing = new AbortController();
  try {
    // Everything already in the lake is old news: only rows loaded from now on are measured.
    let seenRowId = Number((await lake.run('SELECT coalesce(max(rowid), -1) AS r FROM lake_events'))[0]?.r);
    const window = { from: Date.now() + FRESHNESS_SETTLE_MS, to: Infinity };
    let producing = true;
    const producer = produce({ bootstrapServers: [bootstrapServers(config)], topic: config.topic, rate, dailyCurve: false, seed, signal: stopProducing.signal }).finally(() => (producing = false));
    // Settles to its error, if any, thrown once the loop is done: a rejection not awaited would end the process.
    const measured = (async () => {
      await sleep(FRESHNESS_SETTLE_MS);
      await during();
    })().then(
      () => undefined,
      (error: Error) => error,
    ).finally(() => {
      window.to = Date.now();
      stopProducing.abort();
    });
    let idleSyncs = 0;
    while (producing || idleSyncs < 5) {
      const syncStarted = Date.now();
      await lake.apply((await mirror.sync()).changes);
      const queryableAt = Date.now();
      const rows = await lake.run(`SELECT rowid AS r, epoch_ms(event_time) AS t FROM lake_events WHERE rowid > ${seenRowId}`);
      for (const row of rows) {
        seenRowId = Math.max(seenRowId, Number(row.r));
        const t = Number(row.t);
        if (t >= window.from && t < window.to) samples.push((queryableAt - t) / 1000);
      }
      idleSyncs = producing || rows.length > 0 ? 0 : idleSyncs + 1;
      await sleep(Math.max(0, LAKE_SYNC_INTERVAL_MS - (Date.now() - syncStarted)));
    }
    const failed = await measured;
    if (failed) throw failed;
    const summary = await producer;
    log(`freshness at ${rate.toLocaleString('en-US')}/s: ${samples.length.toLocaleString('en-US')} of ${summary.sent.toLocaleString('en-US')} events measured`);
    return {
      ratePerSecond: rate,
      events: summary.sent,
      measuredSeconds: (window.to - window.from) / 1000,
      p50Seconds: percentile(samples, 0.5),
      p95Seconds: percentile(samples, 0.95),
      p99Seconds: percentile(samples, 0.99),
      floorSeconds: config.batchingWindowSeconds + LAKE_SYNC_INTERVAL_MS / 1000,
    };
  } finally {
    stopProducing.abort();
    await lake.close();
    s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
