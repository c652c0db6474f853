/**
 * One compaction run in a process of its own, as a Lambda runs it, so that its
 * peak resident memory is the run's and nobody else's (the benchmark's own
 * process holds the lake it wrote). Prints one JSON line: the result, the time,
 * the peak and starting resident memory.
 *
 * Usage: node --max-old-space-size=<MiB> --import tsx compaction-run.ts '<json: endpoint, credentials, bucket, sliceRows>'
 */
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { compactLake } from '../../lambdas/compactor/compact-lake.ts';
import { S3ObjectStore, type ObjectStore } from '../../lambdas/consumer/object-store.ts';

interface RunArgs {
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly bucket: string;
  readonly sliceRows: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as RunArgs;
const requests = { get: 0, put: 0, list: 0, deleteCalls: 0 };
const store = new S3ObjectStore({ endpoint: args.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: args.credentials }, args.bucket);
/** Counts the requests it passes on (DeleteObjects takes up to 1,000 keys per request). */
const counted: ObjectStore = {
  get: (key) => (requests.get++, store.get(key)),
  put: (key, body, type, condition) => (requests.put++, store.put(key, body, type, condition)),
  list: (prefix) => (requests.list++, store.list(prefix)),
  delete: (keys) => ((requests.deleteCalls += Math.ceil(keys.length / 1000)), store.delete(keys)),
};
const startRssBytes = process.memoryUsage().rss;
const cpu = process.cpuUsage();
const began = performance.now();
const result = await compactLake({ store: counted, timing: DEFAULT_LAKE_TIMING, retentionMs: 3_600_000, maxHourBytes: 2 ** 40, sliceRows: args.sliceRows });
const seconds = (performance.now() - began) / 1000;
const used = process.cpuUsage(cpu);
store.destroy();
// maxRSS is in kibibytes.
console.log(JSON.stringify({ result, seconds, cpuSeconds: (used.user + used.system) / 1e6, requests, startRssBytes, peakRssBytes: process.resourceUsage().maxRSS * 1024 }));
