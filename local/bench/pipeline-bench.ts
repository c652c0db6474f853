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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalConfig } from '../common/config.ts';
import { pipelineLag, waitForCaughtUp } from '../consume/consumer-lag.ts';
import { DuckDbLake } from '../lake/duckdb-lake.ts';
import { LakeMirror } from '../lake/lake-mirror.ts';
import { LakeInventoryReader } from '../lake/lake-inventory.ts';
import { produce } from '../produce/produce.ts';
import { LAKE_SYNC_INTERVAL_MS } from '../serve/query-server.ts';
import { bootstrapServers } from '../services/kafka.ts';
import { localS3Client } from '../services/minio.ts';
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

export interface PipelineBenchResult {
  readonly stepSeconds: number;
  readonly steps: readonly RateStep[];
  /** The highest rate kept up with. */
  readonly sustainedEventsPerSecond: number;
  readonly freshness: {
    readonly ratePerSecond: number;
    readonly events: number;
    readonly p50Seconds: number;
    readonly p95Seconds: number;
    readonly p99Seconds: number;
    /** Baseline: batching window + the dashboard's sync interval, the wait built into the design. */
    readonly floorSeconds: number;
  };
  /** Lake objects written per million events over the whole run (for the cost model). */
  readonly objectsPerMillionEvents: number;
}

const DRAIN_LIMIT_SECONDS = 5;
const FRESHNESS_SETTLE_MS = 5_000;

export async function benchPipeline(
  config: LocalConfig,
  options: { rates: readonly number[]; stepSeconds: number; freshnessRate: number; freshnessSeconds: number },
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

  const freshness = await measureFreshness(config, options.freshnessRate, options.freshnessSeconds, seed, log);
  produced += freshness.events;
  const s3 = localS3Client(config);
  const inventory = await new LakeInventoryReader(s3, config.bucket).read();
  s3.destroy();
  return {
    stepSeconds: options.stepSeconds,
    steps,
    sustainedEventsPerSecond: Math.max(0, ...steps.filter((s) => s.keptUp).map((s) => s.targetPerSecond)),
    freshness,
    objectsPerMillionEvents: (inventory.eventObjects / Math.max(1, produced)) * 1e6,
  };
}

async function measureFreshness(config: LocalConfig, rate: number, seconds: number, seed: number, log: (line: string) => void): Promise<PipelineBenchResult['freshness']> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-freshness-'));
  const s3 = localS3Client(config);
  const mirror = new LakeMirror(s3, config.bucket, dir);
  await mirror.sync();
  const lake = await DuckDbLake.open(dir, { files: mirror.keys() });
  const samples: number[] = [];
  try {
    // Everything already in the lake is old news: only rows loaded from now on are measured.
    let seenRowId = Number((await lake.run('SELECT coalesce(max(rowid), -1) AS r FROM lake_events'))[0]?.r);
    // The first seconds are left out: the runner and the sync loop settle in.
    const measureFrom = Date.now() + FRESHNESS_SETTLE_MS;
    let producing = true;
    const producer = produce({ bootstrapServers: [bootstrapServers(config)], topic: config.topic, rate, dailyCurve: false, durationSeconds: seconds, seed }).finally(
      () => (producing = false),
    );
    let idleSyncs = 0;
    while (producing || idleSyncs < 5) {
      const syncStarted = Date.now();
      await lake.apply((await mirror.sync()).changes);
      const queryableAt = Date.now();
      const rows = await lake.run(`SELECT rowid AS r, epoch_ms(event_time) AS t FROM lake_events WHERE rowid > ${seenRowId}`);
      for (const row of rows) {
        seenRowId = Math.max(seenRowId, Number(row.r));
        if (Number(row.t) >= measureFrom) samples.push((queryableAt - Number(row.t)) / 1000);
      }
      idleSyncs = producing || rows.length > 0 ? 0 : idleSyncs + 1;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, LAKE_SYNC_INTERVAL_MS - (Date.now() - syncStarted))));
    }
    const summary = await producer;
    log(`freshness at ${rate.toLocaleString('en-US')}/s: ${samples.length.toLocaleString('en-US')} of ${summary.sent.toLocaleString('en-US')} events measured`);
    return {
      ratePerSecond: rate,
      events: summary.sent,
      p50Seconds: percentile(samples, 0.5),
      p95Seconds: percentile(samples, 0.95),
      p99Seconds: percentile(samples, 0.99),
      floorSeconds: config.batchingWindowSeconds + LAKE_SYNC_INTERVAL_MS / 1000,
    };
  } finally {
    await lake.close();
    s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
