/**
 * The consumer core on one 10,000-record batch: decode + validate + group +
 * Parquet encode, beside a JSON.parse-only pass over the same bytes, measured two
 * ways: with the phases apart (each in a process of its own, core-phase.ts: each
 * charged its own garbage; the figure the goal is judged on) and, as in earlier
 * rounds, alternating in this process (kept so the figures stay comparable). Also the bundle's size and its cold start: importing the bundled handler
 * in a fresh Node process, beside starting a bare Node process and importing the
 * SDK's S3 client alone, bundled the same way (11 of each, alternating).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS } from '../../lambdas/bundle-options.ts';
import { CONSUMER_NODE_FLAGS } from '../../lambdas/consumer/node-flags.ts';
import { bundleLambda } from '../common/bundle.ts';
import { lambdaBundleSize } from './bundle-sizes.ts';
import { benchBatch, coreRound, cpuMs, parseRound, type CorePhase, type PhaseRounds } from './core-phase.ts';
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
  /**
   * The phases apart: each in a process of its own (core-phase.ts), `phaseRounds` rounds,
   * `phasePairs` alternating pairs; medians over all of a phase's rounds. Each phase pays for
   * its own garbage only, so this is the stricter figure, and the one the goal is judged on.
   */
  readonly phasesApart: {
    readonly pairs: number;
    readonly rounds: number;
    readonly jsonParseCpuMs: number;
    readonly coreCpuMs: number;
    /** coreCpuMs / jsonParseCpuMs. */
    readonly cpuCostOverJsonParse: number;
    /** The same in wall time. */
    readonly costOverJsonParse: number;
    /** Each pair's own ratio in CPU time, to show the spread. */
    readonly pairCpuCosts: readonly number[];
  };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PHASE_SCRIPT = fileURLToPath(new URL('./core-phase.ts', import.meta.url));

/** One phase's rounds in a fresh Node process (core-phase.ts). */
function runPhase(phase: CorePhase, records: number, rounds: number): Promise<PhaseRounds> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', ...CONSUMER_NODE_FLAGS, '--import', import.meta.resolve('tsx'), PHASE_SCRIPT, phase, String(records), String(rounds)], { cwd: ROOT, timeout: 600_000 }, (error, out, err) => {
      if (error) return reject(new Error(`the ${phase} phase failed: ${err.trim().split('\n').at(-1) || error.message}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as PhaseRounds);
    });
  });
}

/** JSON.parse and the core each in processes of their own, alternating pair by pair. */
async function phasesApart(records: number, rounds: number, pairs: number): Promise<HandlerBenchResult['phasesApart']> {
  const parse: PhaseRounds[] = [];
  const core: PhaseRounds[] = [];
  for (let i = 0; i < pairs; i++) {
    parse.push(await runPhase('parse', records, rounds));
    core.push(await runPhase('core', records, rounds));
  }
  const all = (runs: readonly PhaseRounds[], key: keyof PhaseRounds) => median(runs.flatMap((r) => r[key]));
  const jsonParseCpuMs = all(parse, 'cpuMs');
  const coreCpuMs = all(core, 'cpuMs');
  return {
    pairs,
    rounds,
    jsonParseCpuMs,
    coreCpuMs,
    cpuCostOverJsonParse: coreCpuMs / jsonParseCpuMs,
    costOverJsonParse: all(core, 'wallMs') / all(parse, 'wallMs'),
    pairCpuCosts: parse.map((p, i) => median(core[i]!.cpuMs) / median(p.cpuMs)),
  };
}

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

export async function benchHandler(records = 10_000, rounds = 15, phaseRounds = 21, phasePairs = 3): Promise<HandlerBenchResult> {
  const apart = await phasesApart(records, phaseRounds, phasePairs);
  const batch = benchBatch(records);
  const batchBytes = batch.reduce((n, r) => n + r.value!.length, 0);

  const core: number[] = [];
  const parse: number[] = [];
  const coreCpu: number[] = [];
  const parseCpu: number[] = [];
  let parquetBytes = 0;
  for (let round = 0; round < rounds; round++) {
    let t = performance.now();
    let c = cpuMs();
    parseRound(batch);
    parse.push(performance.now() - t);
    parseCpu.push(cpuMs() - c);

    t = performance.now();
    c = cpuMs();
    parquetBytes = await coreRound(batch);
    core.push(performance.now() - t);
    coreCpu.push(cpuMs() - c);
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
    phasesApart: apart,
  };
}
