/**
 * `npx clickstream bench`: every benchmark, each figure beside a baseline
 * measured in the same run, printed for people or as one JSON object. It runs
 * its own Kafka, MinIO and consumer in a throw-away state directory on ports of
 * its own, so a developer's pipeline and lake are never touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { configEnv, loadConfig, type LocalConfig } from '../config.ts';
import { parseCount, parseFlags, thousands as n } from '../cli-options.ts';
import { KAFKA_VERSION } from '../services/kafka.ts';
import { down, up } from '../services/stack.ts';
import { columnsRead } from '../../lambdas/query/columns-read.ts';
import { athenaDialect } from '../../lambdas/query/dialect.ts';
import { QUERY_NAMES, querySql } from '../../lambdas/query/named-queries.ts';
import { athenaDollars, athenaRefreshBytes, costPerMillionEvents } from './cost-model.ts';
import { benchDashboard } from './dashboard-bench.ts';
import { benchHandler } from './handler-bench.ts';
import { benchPipeline } from './pipeline-bench.ts';
import { benchProducer } from './producer-bench.ts';

const BENCH_PORTS = { CLICKSTREAM_KAFKA_PORT: '49092', CLICKSTREAM_KAFKA_CONTROLLER_PORT: '49093', CLICKSTREAM_MINIO_PORT: '49000', CLICKSTREAM_DASHBOARD_PORT: '48080' };
/** The consumer function's memory in the CDK stack (lib/consumer.ts default). */
const CLOUD_CONSUMER_MEMORY_MB = 1024;

export async function cmdBench(args: string[], config: LocalConfig): Promise<number> {
  const values = parseFlags(args, {
    json: { type: 'boolean' },
    count: { type: 'string' },
    rounds: { type: 'string' },
    'lake-events': { type: 'string' },
    'step-seconds': { type: 'string' },
  });
  const records = values.count === undefined ? 200_000 : parseCount('--count', values.count);
  const rounds = values.rounds === undefined ? 3 : parseCount('--rounds', values.rounds);
  const lakeEvents = values['lake-events'] === undefined ? 10_000_000 : parseCount('--lake-events', values['lake-events']);
  const stepSeconds = values['step-seconds'] === undefined ? 20 : parseCount('--step-seconds', values['step-seconds']);
  const log = (line: string) => console.error(`clickstream bench: ${line}`);

  log('consumer core on a 10,000-record batch');
  const handler = await benchHandler();
  log(`dashboard refresh over a lake of ${n(lakeEvents)} events`);
  const dashboard = await benchDashboard(lakeEvents, 20, log);

  const stateDir = mkdtempSync(join(tmpdir(), 'clickstream-bench-'));
  const bench = loadConfig({ ...configEnv(config), CLICKSTREAM_STATE_DIR: stateDir, ...BENCH_PORTS });
  try {
    await up(bench, log);
    const producer = await benchProducer(bench, records, rounds, log);
    const pipeline = await benchPipeline(bench, { rates: [5_000, 10_000, 20_000, 30_000, 40_000, 60_000], stepSeconds, freshnessRate: 5_000, freshnessSeconds: 60 }, log);

    const cost = costPerMillionEvents({
      // The handler bench's batch is a steady-state mix (warm start); the producer's payload file starts cold.
      eventBytes: handler.batchBytes / handler.records,
      handlerEventsPerSecond: handler.coreEventsPerSecond,
      batchSize: 10_000,
      lambdaMemoryMb: CLOUD_CONSUMER_MEMORY_MB,
      invocationOverheadSeconds: 0.2,
      objectsPerMillionEvents: pipeline.objectsPerMillionEvents,
      partitionsPerBatch: bench.partitions,
    });
    // Each query scans the lake columns its Athena SQL names.
    const queryColumns = QUERY_NAMES.map((q) => columnsRead(querySql(q, athenaDialect('clickstream'), { fromMs: 0, toMs: 3_600_000 })));
    const refreshAt = (eventsPerSecond: number) => {
      const bytes = athenaRefreshBytes(queryColumns, dashboard.columnBytesPerEvent, eventsPerSecond * 3_600);
      return { eventsPerSecond, bytesScanned: bytes, dollars: athenaDollars(bytes) };
    };
    const report = {
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kafka: KAFKA_VERSION },
      producer,
      handler,
      dashboard,
      pipeline,
      cost: { perMillionEvents: cost, athenaLastHourRefresh: [refreshAt(100), refreshAt(5_000)] },
    };
    if (values.json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    printReport(report, records, rounds);
    return 0;
  } finally {
    await down(bench);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

type Report = {
  producer: Awaited<ReturnType<typeof benchProducer>>;
  handler: Awaited<ReturnType<typeof benchHandler>>;
  dashboard: Awaited<ReturnType<typeof benchDashboard>>;
  pipeline: Awaited<ReturnType<typeof benchPipeline>>;
  cost: { perMillionEvents: ReturnType<typeof costPerMillionEvents>; athenaLastHourRefresh: { eventsPerSecond: number; bytesScanned: number; dollars: number }[] };
};

function printReport({ producer, handler, dashboard, pipeline, cost }: Report, records: number, rounds: number): void {
  const out = (line: string) => console.log(line);
  out(`producer: ${n(records)} records of ${producer.averageRecordBytes} bytes, median of ${rounds} rounds`);
  out(`  clickstream simulator + producer  ${n(producer.clickstreamProducer)} events/s`);
  out(`  kafka-producer-perf-test          ${n(producer.kafkaProducerPerfTest)} records/s   ratio ${producer.ratio.toFixed(2)}`);
  out(`consumer core: ${n(handler.records)} records, ${(handler.batchBytes / 1e6).toFixed(1)} MB, median of ${handler.rounds} rounds`);
  out(`  decode + validate + group + Parquet  ${n(handler.coreEventsPerSecond)} events/s`);
  out(`  JSON.parse only                      ${n(handler.jsonParseEventsPerSecond)} events/s   cost ${handler.costOverJsonParse.toFixed(1)}x`);
  out(`  bundle ${(handler.bundleBytes / 1024).toFixed(0)} KiB; cold start ${handler.coldStartMs.toFixed(0)} ms vs bare node ${handler.bareNodeStartMs.toFixed(0)} ms`);
  out(`dashboard refresh (${QUERY_NAMES.length} queries, DuckDB): lake of ${n(dashboard.lakeEvents)} events in ${dashboard.lakeFiles} files`);
  out(`  last hour                       p50 ${n(dashboard.lastHour.p50Ms)} ms  p95 ${n(dashboard.lastHour.p95Ms)} ms`);
  out(`  last hour, raw files + window   p50 ${n(dashboard.rawFilesLastHour.p50Ms)} ms  p95 ${n(dashboard.rawFilesLastHour.p95Ms)} ms`);
  out(`  last 24 h                       p50 ${n(dashboard.last24Hours.p50Ms)} ms  p95 ${n(dashboard.last24Hours.p95Ms)} ms`);
  out(`  loading the lake at start       ${dashboard.loadSeconds.toFixed(1)} s, ${(dashboard.tableMemoryBytes / 2 ** 20).toFixed(0)} MiB in DuckDB`);
  out(`end to end (everything on this machine), ${pipeline.stepSeconds} s per rate:`);
  for (const s of pipeline.steps) {
    out(`  ${n(s.targetPerSecond).padStart(7)}/s  produced ${n(s.producedPerSecond)}/s  lag at stop ${n(s.lagAtStop)}  ${s.keptUp ? `kept up (drained in ${s.drainSeconds?.toFixed(1)} s)` : 'fell behind'}`);
  }
  out(`  sustained ${n(pipeline.sustainedEventsPerSecond)} events/s; producer alone ${n(producer.clickstreamProducer)} events/s`);
  const f = pipeline.freshness;
  out(`  freshness at ${n(f.ratePerSecond)}/s: p50 ${f.p50Seconds.toFixed(2)} s  p95 ${f.p95Seconds.toFixed(2)} s  p99 ${f.p99Seconds.toFixed(2)} s  (floor: window + sync = ${f.floorSeconds} s)`);
  const c = cost.perMillionEvents;
  out(`cloud cost per million events: consumer $${c.consumer.dollars.toFixed(4)} (Lambda $${c.consumer.lambdaDollars.toFixed(4)}, S3 $${c.consumer.s3Dollars.toFixed(4)}) vs Firehose $${c.firehose.dollars.toFixed(4)}   ratio ${c.ratio.toFixed(3)}`);
  for (const r of cost.athenaLastHourRefresh) out(`  Athena, one last-hour refresh at ${n(r.eventsPerSecond)} events/s: ${(r.bytesScanned / 2 ** 20).toFixed(0)} MiB billed, $${r.dollars.toFixed(5)}`);
}
