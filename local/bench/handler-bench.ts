/**
 * The consumer core on one 10,000-record batch: decode + validate + group +
 * Parquet encode, beside a JSON.parse-only pass over the same bytes in the same
 * run. Also the bundle's size and its cold start: importing the bundled handler
 * in a fresh Node process, beside starting a bare Node process and importing the
 * SDK's S3 client alone, bundled the same way (11 of each, alternating).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS } from '../../lambdas/bundle-options.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { planBatch } from '../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { bundleLambda } from '../common/bundle.ts';
import { lambdaBundleSize } from './bundle-sizes.ts';
import { median } from './stats.ts';

export interface HandlerBenchResult {
  readonly records: number;
  readonly batchBytes: number;
  readonly rounds: number;
  /** Median events/s for decode + validate + group + Parquet encode. */
  readonly coreEventsPerSecond: number;
  /** Median events/s for JSON.parse alone over the same records. */
  readonly jsonParseEventsPerSecond: number;
  /** How many times more the core costs than parsing alone. */
  readonly costOverJsonParse: number;
  readonly parquetBytes: number;
  readonly bundleBytes: number;
  readonly coldStartMs: number;
  readonly bareNodeStartMs: number;
  /**
   * The same starts in CPU time (user + system of the child, as it reports at exit): on a
   * shared machine wall time also counts waiting for a core, CPU time mostly does not.
   */
  readonly coldStartCpuMs: number;
  readonly bareNodeStartCpuMs: number;
  /**
   * Importing the AWS SDK's S3 client alone (the client and the four commands the ObjectStore
   * once used), bundled with the Lambdas' options: what the consumer's cold import cost before
   * S3 went through lambdas/common/s3-transport.ts, measured in the same rounds.
   */
  readonly sdkS3ClientStartMs: number;
  readonly sdkS3ClientStartCpuMs: number;
  /** Median CPU time of the core over that of JSON.parse, in the same rounds: the load-robust form of costOverJsonParse. */
  readonly cpuCostOverJsonParse: number;
}

/** CPU time this process has used, in ms. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The SDK's S3 client alone, bundled as a Lambda is (index.mjs and chunks); returns its index.mjs. */
async function sdkS3ClientBundle(): Promise<string> {
  const dir = join(ROOT, 'dist', 'bench', 'sdk-s3-client');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    "import { DeleteObjectsCommand, GetObjectCommand, paginateListObjectsV2, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';\n" +
      'export const client = new S3Client({});\nexport const commands = [DeleteObjectsCommand, GetObjectCommand, paginateListObjectsV2, PutObjectCommand];\n',
  );
  await build({ ...LAMBDA_BUNDLE_OPTIONS, absWorkingDir: ROOT, entryPoints: { index: entry }, outdir: join(dir, 'out') });
  return join(dir, 'out', 'index.mjs');
}

export async function benchHandler(records = 10_000, rounds = 15): Promise<HandlerBenchResult> {
  const sim = new ShopperSimulator({ seed: 1, startTimeMs: Date.now() - 600_000, eventsPerSecond: 1_000, dailyCurve: false, warmStart: true });
  const batch: SourceRecord[] = Array.from({ length: records }, (_, i) => ({
    topic: 'clickstream.events',
    partition: 0,
    offset: String(i),
    value: sim.nextRecord().value,
  }));
  const batchBytes = batch.reduce((n, r) => n + r.value!.length, 0);

  const core: number[] = [];
  const parse: number[] = [];
  const coreCpu: number[] = [];
  const parseCpu: number[] = [];
  let parquetBytes = 0;
  for (let round = 0; round < rounds; round++) {
    let t = performance.now();
    let c = cpuMs();
    for (const r of batch) JSON.parse(r.value!.toString('utf8'));
    parse.push(performance.now() - t);
    parseCpu.push(cpuMs() - c);

    t = performance.now();
    c = cpuMs();
    const plans = planBatch(batch, Date.now());
    const files = await Promise.all(plans.flatMap((p) => p.events.map((o) => encodeParquet(o.rows))));
    core.push(performance.now() - t);
    coreCpu.push(cpuMs() - c);
    parquetBytes = files.reduce((n, f) => n + f.length, 0);
  }

  const bundle = await bundleLambda('consumer');
  const sdkS3Client = await sdkS3ClientBundle();
  const env = { ...process.env, CLICKSTREAM_LAKE_BUCKET: 'bench', AWS_REGION: 'us-east-1' };
  // The child prints its own CPU time last, after the import.
  const reportCpu = 'const u = process.cpuUsage(); console.log((u.user + u.system) / 1000);';
  const timeNode = (script: string): [wallMs: number, cpuMs: number] => {
    const t = performance.now();
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', `${script}\n${reportCpu}`], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`cold-start probe failed: ${result.stderr}`);
    return [performance.now() - t, Number(result.stdout.trim().split('\n').pop())];
  };
  const cold: number[] = [];
  const bare: number[] = [];
  const coldCpu: number[] = [];
  const bareCpu: number[] = [];
  const sdk: number[] = [];
  const sdkCpu: number[] = [];
  for (let i = 0; i < 11; i++) {
    const [bareWall, bareCpuMs] = timeNode('');
    const [coldWall, coldCpuMs] = timeNode(`await import(${JSON.stringify(bundle)});`);
    const [sdkWall, sdkCpuMs] = timeNode(`await import(${JSON.stringify(sdkS3Client)});`);
    bare.push(bareWall);
    bareCpu.push(bareCpuMs);
    cold.push(coldWall);
    coldCpu.push(coldCpuMs);
    sdk.push(sdkWall);
    sdkCpu.push(sdkCpuMs);
  }

  const coreMs = median(core);
  const parseMs = median(parse);
  return {
    records,
    batchBytes,
    rounds,
    coreEventsPerSecond: (records * 1000) / coreMs,
    jsonParseEventsPerSecond: (records * 1000) / parseMs,
    costOverJsonParse: coreMs / parseMs,
    parquetBytes,
    // What the cold start loads: index.mjs and the chunks it imports statically.
    bundleBytes: (await lambdaBundleSize('consumer')).bytes,
    coldStartMs: median(cold),
    bareNodeStartMs: median(bare),
    coldStartCpuMs: median(coldCpu),
    bareNodeStartCpuMs: median(bareCpu),
    sdkS3ClientStartMs: median(sdk),
    sdkS3ClientStartCpuMs: median(sdkCpu),
    cpuCostOverJsonParse: median(coreCpu) / median(parseCpu),
  };
}
