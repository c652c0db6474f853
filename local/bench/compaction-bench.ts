/**
 * The compactor on a lake of simulated events in a MinIO of the benchmark's own:
 * objects and bytes before and after, its speed and memory per input byte (what
 * bounds the largest hour a Lambda of a given size compacts), the S3 requests it
 * makes per hour (its cloud cost), and the Parquet column sizes of its files
 * beside the consumer's (what Athena bills per refresh, raw against compacted).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { LAKE_PREFIXES } from '../../lambdas/common/pipeline-names.ts';
import { compactLake, type CompactionResult } from '../../lambdas/compactor/compact-lake.ts';
import { S3ObjectStore, type ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { ROLLUP_NAMES, type RollupName } from '../../lambdas/query/rollups.ts';
import type { LocalConfig } from '../common/config.ts';
import { ensureBucket, localS3Client, startMinio, stopMinio } from '../services/minio.ts';
import { columnSizes, simulateLake } from './bench-lake.ts';

export interface CompactionBenchResult {
  readonly events: number;
  readonly hours: number;
  readonly before: { readonly objects: number; readonly bytes: number };
  readonly after: { readonly objects: number; readonly bytes: number };
  readonly result: CompactionResult;
  readonly seconds: number;
  readonly inputEventsPerSecond: number;
  /** Resident memory the run added, per MiB of Parquet it read (sampled every 50 ms). */
  readonly peakRssMiBPerInputMiB: number;
  readonly requests: { readonly get: number; readonly put: number; readonly list: number; readonly deleteCalls: number };
  readonly rawColumnBytesPerEvent: Readonly<Record<string, number>>;
  readonly compactedColumnBytesPerEvent: Readonly<Record<string, number>>;
  /** Each rollup's column bytes per event it summarises: what a query reading those columns scans. */
  readonly rollupColumnBytesPerEvent: Readonly<Record<RollupName, Readonly<Record<string, number>>>>;
}

/** An ObjectStore that counts the requests it passes on (DeleteObjects takes up to 1,000 keys per request). */
function countingStore(store: ObjectStore) {
  const requests = { get: 0, put: 0, list: 0, deleteCalls: 0 };
  const counted: ObjectStore = {
    get: (key) => (requests.get++, store.get(key)),
    put: (key, body, type, condition) => (requests.put++, store.put(key, body, type, condition)),
    list: (prefix) => (requests.list++, store.list(prefix)),
    delete: (keys) => ((requests.deleteCalls += Math.ceil(keys.length / 1000)), store.delete(keys)),
  };
  return { counted, requests };
}

export async function benchCompaction(config: LocalConfig, events: number, log: (line: string) => void): Promise<CompactionBenchResult> {
  await startMinio(config, log);
  const s3 = localS3Client(config);
  try {
    await ensureBucket(config);
    const hours = 2;
    // Whole hours that ended long enough ago to be settled for the compactor.
    const start = Math.floor(Date.now() / 3_600_000) * 3_600_000 - (hours + 1) * 3_600_000;
    log(`compaction: writing ${events.toLocaleString('en-US')} events over ${hours} hours to MinIO`);
    const pending: { key: string; body: Uint8Array }[] = [];
    const flush = () => mapWithLimit(pending.splice(0), 16, ({ key, body }) => s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body })));
    await simulateLake(events, start, hours * 3_600_000, async (key, body) => {
      pending.push({ key, body });
      if (pending.length >= 64) await flush();
    });
    await flush();

    const store = new S3ObjectStore(s3, config.bucket);
    const eventObjects = async (prefixes: readonly string[]) => (await Promise.all(prefixes.map((p) => store.list(p)))).flat();
    const raw = await eventObjects([LAKE_PREFIXES.events, LAKE_PREFIXES.late]);
    const rawSample = await mapWithLimit(raw.filter((_, i) => i % 10 === 0), 8, async (o) => (await store.get(o.key))!.body);

    const { counted, requests } = countingStore(store);
    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    log('compaction: one run over the settled hours');
    const began = performance.now();
    const result = await compactLake({ store: counted, timing: DEFAULT_LAKE_TIMING, retentionMs: 3_600_000, maxHourBytes: 2 ** 40 });
    const seconds = (performance.now() - began) / 1000;
    clearInterval(sampler);

    const compacted = await store.list(LAKE_PREFIXES.compacted);
    const rollups = await store.list(LAKE_PREFIXES.rollups);
    const rollupFiles = (name: RollupName) =>
      mapWithLimit(rollups.filter((o) => o.key.startsWith(`${LAKE_PREFIXES.rollups}${name}/`)), 4, async (o) => (await store.get(o.key))!.body);
    const compactedFiles = await mapWithLimit(compacted, 4, async (o) => (await store.get(o.key))!.body);
    const inputMiB = raw.reduce((n, o) => n + o.size, 0) / 2 ** 20;
    return {
      events,
      hours,
      before: { objects: raw.length, bytes: raw.reduce((n, o) => n + o.size, 0) },
      after: { objects: compacted.length, bytes: compacted.reduce((n, o) => n + o.size, 0) },
      result,
      seconds,
      inputEventsPerSecond: events / seconds,
      peakRssMiBPerInputMiB: (peakRss - baseRss) / 2 ** 20 / inputMiB,
      requests,
      rawColumnBytesPerEvent: columnSizes(rawSample),
      compactedColumnBytesPerEvent: columnSizes(compactedFiles),
      rollupColumnBytesPerEvent: Object.fromEntries(await Promise.all(ROLLUP_NAMES.map(async (name) => [name, columnSizes(await rollupFiles(name), events)]))) as Record<RollupName, Record<string, number>>,
    };
  } finally {
    s3.destroy();
    await stopMinio(config);
  }
}
