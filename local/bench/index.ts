/**
 * `npx clickstream bench`: every benchmark, each figure beside a baseline
 * measured in the same run, printed for people or as one JSON object.
 */
import { cpus } from 'node:os';
import type { LocalConfig } from '../config.ts';
import { parseCount, parseFlags } from '../cli-options.ts';
import { KAFKA_VERSION } from '../services/kafka.ts';
import { down, up } from '../services/stack.ts';
import { QUERY_NAMES } from '../../lambdas/query/named-queries.ts';
import { benchDashboard } from './dashboard-bench.ts';
import { benchHandler } from './handler-bench.ts';
import { benchProducer } from './producer-bench.ts';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

export async function cmdBench(args: string[], config: LocalConfig): Promise<number> {
  const values = parseFlags(args, { json: { type: 'boolean' }, count: { type: 'string' }, rounds: { type: 'string' }, 'lake-events': { type: 'string' } });
  const records = values.count === undefined ? 200_000 : parseCount('--count', values.count);
  const rounds = values.rounds === undefined ? 3 : parseCount('--rounds', values.rounds);
  const lakeEvents = values['lake-events'] === undefined ? 10_000_000 : parseCount('--lake-events', values['lake-events']);
  const log = (line: string) => console.error(`clickstream bench: ${line}`);

  log('consumer core on a 10,000-record batch');
  const handler = await benchHandler();
  log(`dashboard refresh over a lake of ${n(lakeEvents)} events`);
  const dashboard = await benchDashboard(lakeEvents, 20, log);
  const { started } = await up(config, log);
  try {
    const producer = await benchProducer(config, records, rounds, log);
    const report = {
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, kafka: KAFKA_VERSION },
      producer,
      handler,
      dashboard,
    };
    if (values.json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    console.log(`producer: ${n(records)} records of ${producer.averageRecordBytes} bytes, median of ${rounds} rounds`);
    console.log(`  clickstream simulator + producer  ${n(producer.clickstreamProducer)} events/s`);
    console.log(`  kafka-producer-perf-test          ${n(producer.kafkaProducerPerfTest)} records/s`);
    console.log(`  ratio                             ${producer.ratio.toFixed(2)}`);
    console.log(`consumer core: ${n(handler.records)} records, ${(handler.batchBytes / 1e6).toFixed(1)} MB, median of ${handler.rounds} rounds`);
    console.log(`  decode + validate + group + Parquet  ${n(handler.coreEventsPerSecond)} events/s`);
    console.log(`  JSON.parse only                      ${n(handler.jsonParseEventsPerSecond)} events/s`);
    console.log(`  cost over JSON.parse                 ${handler.costOverJsonParse.toFixed(1)}x`);
    console.log(`  Parquet written                      ${(handler.parquetBytes / 1e6).toFixed(2)} MB`);
    console.log(`bundle ${(handler.bundleBytes / 1024).toFixed(0)} KiB; cold start ${handler.coldStartMs.toFixed(0)} ms vs bare node ${handler.bareNodeStartMs.toFixed(0)} ms`);
    console.log(`dashboard refresh (${QUERY_NAMES.length} queries, DuckDB): lake of ${n(dashboard.lakeEvents)} events in ${dashboard.lakeFiles} files`);
    console.log(`  last hour                       p50 ${n(dashboard.lastHour.p50Ms)} ms  p95 ${n(dashboard.lastHour.p95Ms)} ms`);
    console.log(`  last hour, raw files + window   p50 ${n(dashboard.rawFilesLastHour.p50Ms)} ms  p95 ${n(dashboard.rawFilesLastHour.p95Ms)} ms`);
    console.log(`  last 24 h                       p50 ${n(dashboard.last24Hours.p50Ms)} ms  p95 ${n(dashboard.last24Hours.p95Ms)} ms`);
    console.log(`  loading the lake at start       ${dashboard.loadSeconds.toFixed(1)} s, ${(dashboard.tableMemoryBytes / 2 ** 20).toFixed(0)} MiB in DuckDB`);
    return 0;
  } finally {
    if (started.length > 0) await down(config, started);
  }
}
