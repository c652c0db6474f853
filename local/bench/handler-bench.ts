/**
 * The consumer core on one 10,000-record batch: decode + validate + group +
 * Parquet encode, beside a JSON.parse-only pass over the same bytes in the same
 * run. Also the bundle's size and its cold start: importing the bundled handler
 * in a fresh Node process, beside starting a bare Node process.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { planBatch } from '../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { bundleLambda } from '../bundle.ts';
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
  let parquetBytes = 0;
  for (let round = 0; round < rounds; round++) {
    let t = performance.now();
    for (const r of batch) JSON.parse(r.value!.toString('utf8'));
    parse.push(performance.now() - t);

    t = performance.now();
    const plans = planBatch(batch, Date.now());
    const files = await Promise.all(plans.flatMap((p) => p.events.map((o) => encodeParquet(o.rows))));
    core.push(performance.now() - t);
    parquetBytes = files.reduce((n, f) => n + f.length, 0);
  }

  const bundle = await bundleLambda('consumer');
  const env = { ...process.env, CLICKSTREAM_LAKE_BUCKET: 'bench', AWS_REGION: 'us-east-1' };
  const timeNode = (script: string) => {
    const t = performance.now();
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`cold-start probe failed: ${result.stderr}`);
    return performance.now() - t;
  };
  const cold: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 7; i++) {
    bare.push(timeNode(''));
    cold.push(timeNode(`await import(${JSON.stringify(bundle)});`));
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
    bundleBytes: statSync(bundle).size,
    coldStartMs: median(cold),
    bareNodeStartMs: median(bare),
  };
}
