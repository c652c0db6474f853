/**
 * `npx clickstream bench`: every benchmark, each figure beside a baseline
 * measured in the same run, printed for people or as one JSON object. It runs
 * its own Kafka, MinIO and consumer in a throw-away state directory on ports of
 * its own, so a developer's pipeline and lake are never touched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { configEnv, loadConfig, type LocalConfig } from '../common/config.ts';
import { COMMAND_OPTIONS, parseCount, parseFlags, thousands as n } from '../cli/cli-options.ts';
import { KAFKA_VERSION } from '../services/kafka.ts';
import { down, up } from '../services/stack.ts';
import { columnsRead } from '../../lambdas/query/columns-read.ts';
import { dashboardSql, rollupColumnsRead, STATEMENT_ROLLUPS, SUFFIX_ROLLUPS } from '../../lambdas/query/dashboard-statement.ts';
import { athenaDialect, type Dialect } from '../../lambdas/query/dialect.ts';
import { QUERY_NAMES, querySql, ROLLUP_OF } from '../../lambdas/query/named-queries.ts';
import { ROLLUP_NAMES, type RollupName } from '../../lambdas/query/rollups.ts';
import { ANSWER_CACHE_SECONDS, answerStepMs, DASHBOARD_RANGE_STEP_SECONDS, DASHBOARD_REFRESH_SECONDS } from '../../lambdas/query-api/limits.ts';
import { UserError } from '../common/errors.ts';
import { EMPTY_VIEW, type LakeView } from '../../lambdas/common/compaction-manifest.ts';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { ROW_GROUP_ROWS } from '../../lambdas/compactor/compact-lake.ts';
import { MERGE_FAN_IN } from '../../lambdas/compactor/fold-open-hours.ts';
import { compactionSpeedup, DEFAULT_COMPACTION_INTERVAL_MINUTES } from '../../lib/compactor.ts';
import { benchApi } from './api-bench.ts';
import { benchCollector, type CollectorBenchResult } from './collector-bench.ts';
import { benchCompaction, FOLDED_EVENTS, PRICED_COMPACTOR_VCPUS, PRICED_EVENTS_PER_SECOND, type CompactionBenchResult } from './compaction-bench.ts';
import { athenaDollars, athenaMixedRefreshBytes, athenaRefreshBytes, athenaRefreshesPerHour, costPerMillionEvents, PRICES } from './cost-model.ts';
import { benchDashboard, LAKE_END_MINUTE } from './dashboard-bench.ts';
import { lambdaBundleSizes, type BundleSize } from './bundle-sizes.ts';
import { benchHandler } from './handler-bench.ts';
import { benchPipeline, type Freshness } from './pipeline-bench.ts';
import { benchProducer } from './producer-bench.ts';

const BENCH_PORTS = { CLICKSTREAM_KAFKA_PORT: '49092', CLICKSTREAM_KAFKA_CONTROLLER_PORT: '49093', CLICKSTREAM_MINIO_PORT: '49000', CLICKSTREAM_DASHBOARD_PORT: '48080' };
/** The consumer function's memory in the CDK stack (lib/consumer.ts default). */
const CLOUD_CONSUMER_MEMORY_MB = 1024;

export async function cmdBench(args: string[], config: LocalConfig): Promise<number> {
  const values = parseFlags(args, COMMAND_OPTIONS.bench);
  const ONLY = ['api', 'collector', 'compaction', 'dashboard', 'handler'];
  if (values.only !== undefined && !ONLY.includes(values.only)) {
    throw new UserError(
      `--only must be api (the query API under load and the dashboard's Athena cost), collector (the collector under load and through a broker restart), compaction (the compactor and what it saves), dashboard (the local refresh over --lake-events events) or handler (the consumer core, cold start and bundle sizes), got "${values.only}"`,
    );
  }
  const compactionEvents = values['compaction-events'] === undefined ? 2_000_000 : parseCount('--compaction-events', values['compaction-events']);
  const records = values.count === undefined ? 200_000 : parseCount('--count', values.count);
  const rounds = values.rounds === undefined ? 3 : parseCount('--rounds', values.rounds);
  const lakeEvents = values['lake-events'] === undefined ? 10_000_000 : parseCount('--lake-events', values['lake-events']);
  const stepSeconds = values['step-seconds'] === undefined ? 20 : parseCount('--step-seconds', values['step-seconds']);
  const apiEvents = values['api-events'] === undefined ? 1_000_000 : parseCount('--api-events', values['api-events']);
  const collectorRequests = values['collector-requests'] === undefined ? 20_000 : parseCount('--collector-requests', values['collector-requests']);
  const log = (line: string) => console.error(`clickstream bench: ${line}`);

  if (values.only === 'dashboard') {
    // No services: the lake is written to a directory and read by DuckDB in this process.
    const dashboard = await benchDashboard(lakeEvents, 20, log);
    if (values.json) console.log(JSON.stringify({ dashboard }));
    else printDashboard(dashboard);
    return 0;
  }
  if (values.only === 'handler') {
    // No services: the consumer core and the bundles are measured in this process and its children.
    const handler = await benchHandler();
    const bundles = await lambdaBundleSizes();
    if (values.json) console.log(JSON.stringify({ handler, bundles }));
    else printHandler(handler, bundles);
    return 0;
  }

  const stateDir = mkdtempSync(join(tmpdir(), 'clickstream-bench-'));
  const bench = loadConfig({ ...configEnv(config), CLICKSTREAM_STATE_DIR: stateDir, ...BENCH_PORTS });
  if (values.only === 'compaction') {
    try {
      const compaction = await benchCompaction(bench, compactionEvents, log);
      const athena = compactedAthenaCost(compaction);
      if (values.json) console.log(JSON.stringify({ compaction, athena }));
      else printCompaction(compaction, athena);
      return 0;
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  if (values.only === 'collector') {
    try {
      const collector = await benchCollector(bench, collectorRequests, log);
      if (values.json) console.log(JSON.stringify({ collector }));
      else printCollector(collector);
      return 0;
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  if (values.only === 'api') {
    try {
      const api = await benchApi(bench, apiEvents, log);
      const athena = dashboardAthenaCost(api.columnBytesPerEvent);
      if (values.json) console.log(JSON.stringify({ api, athena }));
      else printApi(api, athena);
      return 0;
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }

  log('consumer core on a 10,000-record batch');
  const handler = await benchHandler();
  log(`dashboard refresh over a lake of ${n(lakeEvents)} events`);
  const dashboard = await benchDashboard(lakeEvents, 20, log);

  try {
    // Before up(): it runs a MinIO of its own on the same port and stops it when done.
    const api = await benchApi(bench, apiEvents, log);
    const athena = dashboardAthenaCost(api.columnBytesPerEvent);
    const compaction = await benchCompaction(bench, compactionEvents, log);
    const compactedAthena = compactedAthenaCost(compaction);
    // The consumer runs no compaction loop: the pipeline's phase starts a compaction run itself, the run
    // the loop would start, at a known moment (pipeline-bench.ts, freshness during a compaction).
    await up({ ...bench, compactionIntervalSeconds: 0 }, log);
    const producer = await benchProducer(bench, records, rounds, log);
    const pipeline = await benchPipeline(bench, { rates: [5_000, 10_000, 20_000, 30_000, 40_000, 60_000], stepSeconds, freshnessRate: 5_000, freshnessSeconds: 60, compactionEvents }, log);

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
    // Each statement of a refresh scans the lake columns its Athena SQL names.
    const queryColumns = [columnsRead(refreshStatement(athenaDialect('clickstream', 'bench'), EMPTY_VIEW))];
    const refreshAt = (eventsPerSecond: number) => {
      const bytes = athenaRefreshBytes(queryColumns, dashboard.columnBytesPerEvent, eventsPerSecond * 3_600);
      return { eventsPerSecond, bytesScanned: bytes, dollars: athenaDollars(bytes) };
    };
    const report = {
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kafka: KAFKA_VERSION },
      producer,
      handler,
      dashboard,
      api,
      compaction: { ...compaction, athena: compactedAthena },
      pipeline,
      cost: { perMillionEvents: cost, athenaLastHourRefresh: [refreshAt(100), refreshAt(5_000)], athenaDashboardHour: athena },
    };
    if (values.json) {
      console.log(JSON.stringify(report));
      return 0;
    }
    printReport(report, records, rounds);
    printApi(api, athena);
    printCompaction(compaction, compactedAthena);
    return 0;
  } finally {
    await down(bench);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The hour the cost model's SQL is written for: the columns a statement names do not depend on it. */
const SAMPLE_HOUR = { fromMs: 0, toMs: 3_600_000 };

/** The statement a hosted dashboard's refresh runs on Athena (query-api.ts): every panel's, the quarantine's rows included. */
function refreshStatement(d: Dialect, view: LakeView): string {
  return dashboardSql(d, SAMPLE_HOUR, view);
}

/**
 * Athena dollars per hour for one open dashboard at 5,000 events/s on the last hour:
 * refreshes that reach Athena (after alignment and caching) × bytes billed per
 * refresh, over raw files. Beside it: main's unaligned 5 s refreshes, the named queries one by
 * one, and the 10 MB-per-query floor. With the compactor and rollups the compaction bench prices it
 * (compactedAthenaCost), from the column sizes of the files it writes.
 */
function dashboardAthenaCost(columnBytesPerEvent: Readonly<Record<string, number>>) {
  const eventsPerSecond = PRICED_EVENTS_PER_SECOND;
  const athena = athenaDialect('clickstream', 'bench');
  const columns = (dialect: ReturnType<typeof athenaDialect>) => [columnsRead(refreshStatement(dialect, EMPTY_VIEW))];
  const refreshColumns = columns(athena);
  // Over raw files the window reads the range's first hour whole: the minutes before the range too (59 / 2 on average).
  const rawEvents = eventsPerSecond * (3_600 + (59 / 2) * 60);
  const bytesPerRefresh = athenaRefreshBytes(refreshColumns, columnBytesPerEvent, rawEvents);
  const floorBytesPerRefresh = refreshColumns.length * PRICES.athenaMinimumBytesPerQuery;
  // The baseline: the same refreshes as the named queries one by one, each reading the events.
  const namedQueryColumns = QUERY_NAMES.map((q) => columnsRead(querySql(q, athena, SAMPLE_HOUR)));
  const namedQueriesBytesPerRefresh = athenaRefreshBytes(namedQueryColumns, columnBytesPerEvent, rawEvents);
  const refreshesPerHour = athenaRefreshesPerHour(DASHBOARD_REFRESH_SECONDS, DASHBOARD_RANGE_STEP_SECONDS, ANSWER_CACHE_SECONDS);
  const before = athenaRefreshesPerHour(5, 0, ANSWER_CACHE_SECONDS);
  return {
    eventsPerSecond,
    refreshSeconds: DASHBOARD_REFRESH_SECONDS,
    rangeStepSeconds: DASHBOARD_RANGE_STEP_SECONDS,
    bytesPerRefresh,
    dollarsPerRefresh: athenaDollars(bytesPerRefresh),
    refreshesPerHour,
    dollarsPerHour: refreshesPerHour * athenaDollars(bytesPerRefresh),
    baseline: { refreshesPerHour: before, dollarsPerHour: before * athenaDollars(bytesPerRefresh) },
    namedQueries: { bytesPerRefresh: namedQueriesBytesPerRefresh, dollarsPerHour: refreshesPerHour * athenaDollars(namedQueriesBytesPerRefresh) },
    floor: { bytesPerRefresh: floorBytesPerRefresh, dollarsPerHour: refreshesPerHour * athenaDollars(floorBytesPerRefresh) },
  };
}

/**
 * Athena bytes per dashboard refresh at 5,000 events/s with the compactor, from the column sizes
 * the compaction benchmark measured: the SQL over a compacted hour (no window) and over a raw one
 * (window), each query's columns at its part's sizes. A refresh lands at any minute of the hour
 * alike; the previous hour is compacted from the minute it settles (lateness + write deadline)
 * on, the current hour is raw. A raw hour goes through the window whole, the minutes before the
 * range included (an event is its id within its hour: the range picks from the copies the window
 * kept). The figures average over the minute of the hour.
 */
function compactedAthenaCost(c: CompactionBenchResult) {
  const perSecond = PRICED_EVENTS_PER_SECOND;
  const dialect = athenaDialect('clickstream', 'bench');
  const range = SAMPLE_HOUR;
  const compactedView = { compacted: new Map([[0, ['compacted/year=1970/month=01/day=01/hour=00/g1-x-0.parquet']]]), rollups: new Map(), unfoldedLate: [] };
  // Parts merged from four (fold-open-hours.ts, mergeTail), where the dense hour was large enough to merge any; else a minute's.
  const sizes = { raw: c.rawColumnBytesPerEvent, compacted: c.compactedColumnBytesPerEvent, folded: c.folded.columnBytesPerEvent, merged: c.folded.merged?.columnBytesPerEvent ?? c.folded.columnBytesPerEvent };
  // Bytes per event of these columns of one kind of file.
  const read = (sizes: Readonly<Record<string, number>>, columns: readonly string[]) => columns.reduce((total, column) => total + (sizes[column] ?? 0), 0);
  const rollupBytes = (rollup: RollupName, columns: readonly string[]) => columns.reduce((n, column) => n + (c.rollupColumnBytesPerEvent[rollup][column] ?? 0), 0);
  // The baseline: the named queries one by one, each reading its rollup's columns.
  const eachQuery = QUERY_NAMES.map((q) => ({
    raw: columnsRead(querySql(q, dialect, range, EMPTY_VIEW)),
    compacted: columnsRead(querySql(q, dialect, range, compactedView)),
    rollupBytesPerEvent: q === 'quarantine' ? 0 : rollupBytes(ROLLUP_OF[q].rollup, ROLLUP_OF[q].columns),
    // The quarantine's files are JSON lines, read whole (their columns above); the others' Parquet files it opens.
    parquet: q !== 'quarantine',
    rollupFilesPerHour: q === 'quarantine' ? 0 : 1,
  }));
  // What a refresh runs: the dashboard's statement, reading the columns of each rollup it reads for whole hours once.
  const rollupsRead = rollupColumnsRead(dialect);
  const oneStatement = [
    {
      raw: columnsRead(refreshStatement(dialect, EMPTY_VIEW)),
      compacted: columnsRead(refreshStatement(dialect, compactedView)),
      rollupBytesPerEvent: STATEMENT_ROLLUPS.reduce((n, r) => n + rollupBytes(r, rollupsRead.whole[r]), 0),
      parquet: true,
      rollupFilesPerHour: STATEMENT_ROLLUPS.length,
    },
  ];
  // Compacted files an hour at the priced rate: the compactor's 128 MiB objects of the dense hour's columns.
  const compactedFilesPerHour = Math.ceil((3_600 * perSecond * Object.values(sizes.compacted).reduce((a, b) => a + b, 0)) / (128 * 2 ** 20));
  // The partial first hour of a range from the rollups (dashboard-statement.ts, suffixOf), at the priced rate: the
  // `sessions` rows whose last time is in the suffix (measured per minute of the hour above), the minute rollups'
  // rows of its minutes (measured in the dense hour; `activity`'s one row group read whole); and, for the half of
  // the hosted page's ranges that start half a minute inside a minute (it aligns to 30 s), that half minute from
  // the compacted files, with the row groups that hold its two ends read whole: one row group beyond it on average.
  const hourEvents = 3_600 * perSecond;
  const suffixBytes = (minute: number) => {
    const sessions = rollupsRead.suffix.sessions.reduce((n, column) => n + (c.suffix.sessionsColumnBytes[column]?.[minute] ?? 0), 0) / c.suffix.hourEvents;
    const minuteRollup = (r: 'activity' | 'product_minutes') => read(c.suffix.minuteRollupColumnBytesPerEvent[r], rollupsRead.suffix[r]) * hourEvents;
    const edge = 0.5 * (30 * perSecond + ROW_GROUP_ROWS) * read(sizes.compacted, oneStatement[0]!.compacted);
    return sessions * hourEvents + minuteRollup('activity') + minuteRollup('product_minutes') * ((60 - minute) / 60) + edge;
  };
  // The minute of the next hour at which an hour's compaction commits, on average: it settles (lateness and write
  // deadline), waits for the compactor's next run (half its interval), and takes that run: the dense hour's CPU
  // scaled to the priced hour, on the vCPUs of the smallest function that compacts such an hour in one run. Until
  // then a range reads the hour as it reads the open one.
  const settleMinutes = (DEFAULT_LAKE_TIMING.lateAfterMs + DEFAULT_LAKE_TIMING.writeDeadlineMs) / 60_000;
  const runMinutes = (c.dense.compaction.cpuSeconds * (hourEvents / c.dense.events)) / compactionSpeedup(PRICED_COMPACTOR_VCPUS) / 60;
  const committedMinutes = settleMinutes + DEFAULT_COMPACTION_INTERVAL_MINUTES / 2 + runMinutes;
  /**
   * Averaged over the minute of the hour; with `folded`, the hours not compacted yet are read from their parts
   * (CLICKSTREAM_OPEN_HOURS=folded), merged four at a time unless `minuteParts` (the fold before it merged);
   * with `suffix`, a rolled-up first hour is read from its rollups (the statement).
   */
  const average = (queries: typeof eachQuery, rangeHours: number, withRollups: boolean, folded = false, suffix = false, minuteParts = false) => {
    // At 5,000 events/s four parts of a minute merge into one (1.2M rows: MAX_MERGED_ROWS holds no 16).
    const fanIn = minuteParts ? 1 : MERGE_FAN_IN;
    let total = 0;
    for (let minute = 0; minute < 60; minute++) {
      // The range's minutes in hours not compacted: this hour's so far, and the previous hour's until its compaction
      // commits (the last hour holds its last 60 - minute minutes, a longer range all of it).
      const previousOpenMinutes = minute < committedMinutes ? (rangeHours === 1 ? 60 - minute : 60) : 0;
      const openMinutes = minute + previousOpenMinutes;
      // Of those, in merged parts: this hour's whole groups of four minutes, and the previous hour's every minute.
      const mergedMinutes = minuteParts ? 0 : Math.floor(minute / fanIn) * fanIn + previousOpenMinutes;
      // Raw: those hours read whole through the window (the previous hour's minutes before the range too). Folded:
      // their parts, without the window, each a row group whose event times prune it outside the range.
      const rawMinutes = folded ? 0 : minute + (minute < committedMinutes ? 60 : 0);
      // Rolled up: the whole hours inside the range (all of them at minute 0, else all but the first), less the previous hour until it commits.
      const wholeHours = minute === 0 ? rangeHours : rangeHours - 1;
      const rolledUpMinutes = withRollups ? Math.max(0, wholeHours - (minute < committedMinutes ? 1 : 0)) * 60 : 0;
      const compactedMinutes = rangeHours * 60 - openMinutes - rolledUpMinutes;
      const events = (minutes: number) => minutes * 60 * perSecond;
      // The range's start, inside its first hour after minute 0: the row group (or the part) that holds it is read
      // whole, half of one beyond the range on average. Its first hour is open only on the last hour before it commits.
      const firstHourOpen = rangeHours === 1 && minute < committedMinutes;
      // A part's over-read is measured (partOverRead): its row groups hold the sessions that end in each minute.
      const partOverRead = minuteParts ? c.folded.overRead : (c.folded.merged?.overRead ?? c.folded.overRead);
      const overRead = minute === 0 ? 0 : firstHourOpen ? (folded ? partOverRead * fanIn * FOLDED_EVENTS : 0) : ROW_GROUP_ROWS / 2;
      // The first hour's suffix (its compacted minutes, then) from the rollups instead of the compacted files.
      const bySuffix = suffix && withRollups && minute > 0 && !firstHourOpen;
      // The Parquet files each query opens (PRICES.athenaParquetOpenBytes each): the folded parts of the range's
      // open minutes (a part a minute, or four merged; those before the range pruned unread), the compacted files its compacted
      // minutes lie in (with the suffix, the one that holds its edge, for the half of the ranges that start inside a
      // minute), and each rolled-up hour's rollup files. Raw files are not counted: the figures over them are a lower bound.
      const compactedFiles = bySuffix ? 0.5 + Math.ceil((compactedFilesPerHour * (compactedMinutes - (60 - minute))) / 60) : Math.ceil((compactedFilesPerHour * compactedMinutes) / 60);
      const partFiles = Math.ceil(mergedMinutes / fanIn) + (openMinutes - mergedMinutes);
      const eventFiles = (folded ? partFiles : 0) + compactedFiles;
      const filesOf = (q: (typeof queries)[number]) => (q.parquet ? eventFiles + (rolledUpMinutes / 60) * q.rollupFilesPerHour + (bySuffix ? SUFFIX_ROLLUPS.length : 0) : 0);
      const opening = queries.map((q) => ({ ...q, filesOpened: filesOf(q) }));
      total += athenaMixedRefreshBytes(opening, sizes, {
        raw: events(rawMinutes),
        compacted: bySuffix ? events(compactedMinutes - (60 - minute)) : events(compactedMinutes) + (firstHourOpen ? 0 : overRead),
        rolledUp: events(rolledUpMinutes),
        folded: folded ? events(openMinutes - mergedMinutes) + (firstHourOpen && minuteParts ? overRead : 0) : 0,
        merged: folded ? events(mergedMinutes) + (firstHourOpen && !minuteParts ? overRead : 0) : 0,
      }) + (bySuffix ? suffixBytes(minute) : 0);
    }
    return total / 60;
  };
  // Over raw files alone: the range, and the minutes of its first hour before it (59 / 2 on average over the minute of the hour).
  const rawOnly = (queries: typeof eachQuery, rangeHours: number) => athenaMixedRefreshBytes(queries, sizes, { raw: (rangeHours * 60 + 59 / 2) * 60 * perSecond, compacted: 0 });
  // The named queries read a partial first hour from its events; the statement from its rollups (suffixOf).
  const figures = (queries: typeof eachQuery, suffix: boolean) => ({
    lastHour: { raw: rawOnly(queries, 1), compacted: average(queries, 1, false), rolledUp: average(queries, 1, true, false, suffix), minuteParts: average(queries, 1, true, true, suffix, true), folded: average(queries, 1, true, true, suffix) },
    last24Hours: { raw: rawOnly(queries, 24), compacted: average(queries, 24, false), rolledUp: average(queries, 24, true, false, suffix), minuteParts: average(queries, 24, true, true, suffix, true), folded: average(queries, 24, true, true, suffix) },
  });
  const bytesPerEvent = { raw: read(sizes.raw, oneStatement[0]!.raw), compacted: read(sizes.compacted, oneStatement[0]!.compacted), folded: read(sizes.folded, oneStatement[0]!.compacted), merged: read(sizes.merged, oneStatement[0]!.compacted) };
  // The suffix's bytes per event of it, from the minute of the hour it starts at: 15, 30, 45.
  const suffixBytesPerEvent = [15, 30, 45].map((minute) => ({ minute, bytes: suffixBytes(minute) / (((60 - minute) / 60) * hourEvents) }));
  return { eventsPerSecond: perSecond, bytesPerEvent, suffixBytesPerEvent, committedMinutes, ...figures(oneStatement, true), eachQuery: figures(eachQuery, false) };
}

function printCompaction(c: CompactionBenchResult, athena: ReturnType<typeof compactedAthenaCost>): void {
  const out = (line: string) => console.log(line);
  const mib = (bytes: number) => `${n(bytes / 2 ** 20)} MiB`;
  out(`compaction: ${n(c.events)} events over ${c.hours} hours`);
  out(`  objects ${n(c.before.objects)} (${mib(c.before.bytes)}) → ${n(c.after.objects)} (${mib(c.after.bytes)}); ${c.result.hoursCompacted} hours, ${n(c.result.duplicatesDropped)} copies dropped`);
  out(`  in slices: ${c.result.slices} slices, at most ${n(c.result.peakSliceRows)} rows held, ${mib(c.result.peakSpillBytes)} spilled to disk at the most (${c.spillBytesPerEvent.toFixed(1)} bytes per event; input ${c.inputBytesPerEvent.toFixed(1)})`);
  out(`  ${c.seconds.toFixed(1)} s, ${n(c.inputEventsPerSecond)} events/s`);
  out('  each run in a process of its own, its JavaScript heap capped:');
  for (const r of c.runs) {
    const what = `${r.sliceRows >= 2 ** 31 ? 'one slice (the whole hour held)' : `slices of ${n(r.sliceRows)} rows`}, heap ${n(r.heapMiB)} MiB`;
    out(
      r.failed
        ? `    ${what}: failed (${r.failed})`
        : `    ${what}: peak RSS ${mib(r.peakRssBytes)} (${mib(r.startRssBytes)} at start), ${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(1)} s of CPU (${n(c.events / r.cpuSeconds)} events per CPU second), ${r.result.slices} slices`,
    );
  }
  out(`  S3 requests: ${c.requests.get} GET, ${c.requests.put} PUT, ${c.requests.list} LIST, ${c.requests.deleteCalls} DeleteObjects`);
  out(`  a replay of the hour as ${n(c.replay.lateFiles)} late files (${mib(c.replay.lateBytes)}), folded by runs as the one in slices:`);
  for (const [i, r] of c.replay.runs.entries()) {
    out(
      r.failed
        ? `    run ${i + 1}: failed (${r.failed})`
        : `    run ${i + 1}: ${n(r.result.lateFilesFolded)} folded, ${n(r.result.lateFilesLeft)} left, ${n(r.result.duplicatesDropped)} copies dropped; peak RSS ${mib(r.peakRssBytes)}, ${r.seconds.toFixed(1)} s, ${r.cpuSeconds.toFixed(1)} s of CPU`,
    );
  }
  const b = athena.bytesPerEvent;
  out(`  bytes per event of the columns the dashboard's statement reads: raw files ${b.raw.toFixed(2)}, compacted files ${b.compacted.toFixed(2)}, open hours' parts of a minute ${b.folded.toFixed(2)}, merged from four ${c.folded.merged ? `${b.merged.toFixed(2)} (${n(c.folded.merged.rows)} rows)` : '(not measured: the dense hour is under four folds)'}`);
  const overRead = (share: number) => `${(share * 100).toFixed(1)}% of it`;
  out(`  a range starting inside a part reads beyond its start, on average: a minute's part ${overRead(c.folded.overRead)}, a merged part ${c.folded.merged ? overRead(c.folded.merged.overRead) : '(not measured)'}`);
  const suffix = athena.suffixBytesPerEvent.map((s) => `from minute ${s.minute} ${s.bytes.toFixed(2)}`).join(', ');
  out(`  a range's partial first hour read from the rollups, bytes per event of it (the half-minute edge included): ${suffix}; against ${b.compacted.toFixed(2)} from compacted files`);
  const d = c.dense;
  out(`  the dense hour: ${n(d.events)} events written at ${n(PRICED_EVENTS_PER_SECOND)} a second, compacted as the run in slices: ${d.compaction.seconds.toFixed(1)} s, ${d.compaction.cpuSeconds.toFixed(1)} s of CPU, peak RSS ${mib(d.compaction.peakRssBytes)}`);
  out(`Athena per refresh at ${n(athena.eventsPerSecond)} events/s (column sizes measured here: the files' in the dense hour, the rollups' in the hour above):`);
  out(`  an hour's compaction commits ${athena.committedMinutes.toFixed(1)} minutes into the next (settled, the next run, the run on ${PRICED_COMPACTOR_VCPUS} vCPUs); until then it is read as the open hour is`);
  for (const [label, f] of [['the dashboard in one statement', athena], ['baseline: the named queries one by one', athena.eachQuery]] as const) {
    out(`  ${label}:`);
    out(`    last hour:  raw files + window ${mib(f.lastHour.raw)}  →  with compaction ${mib(f.lastHour.compacted)}  →  with rollups ${mib(f.lastHour.rolledUp)}  →  open hours folded ${mib(f.lastHour.folded)}; parts of a minute, not merged: ${mib(f.lastHour.minuteParts)} (average over the minute of the hour)`);
    out(`    last 24 h:  raw files + window ${mib(f.last24Hours.raw)}  →  with compaction ${mib(f.last24Hours.compacted)}  →  with rollups ${mib(f.last24Hours.rolledUp)}  →  open hours folded ${mib(f.last24Hours.folded)}; parts of a minute, not merged: ${mib(f.last24Hours.minuteParts)}`);
  }
  // A range's step, and so how often it reaches Athena, grows with a long range (answerStepMs).
  for (const [label, rangeMs, f] of [['last hour', 3_600_000, athena.lastHour], ['last 24 hours', 86_400_000, athena.last24Hours]] as const) {
    const stepSeconds = answerStepMs(rangeMs) / 1000;
    const refreshesPerHour = athenaRefreshesPerHour(DASHBOARD_REFRESH_SECONDS, stepSeconds, stepSeconds);
    const perHour = (bytes: number) => `$${(refreshesPerHour * athenaDollars(bytes)).toFixed(2)}/h`;
    out(`  one open dashboard on the ${label} (${n(refreshesPerHour)} refreshes/h): raw files ${perHour(f.raw)}, with compaction ${perHour(f.compacted)}, with rollups ${perHour(f.rolledUp)}, open hours folded ${perHour(f.folded)}`);
  }
  const folds = c.folded.folds;
  const last = folds.at(-1);
  if (last) {
    out(`  the hour folded while open, ${n(folds.length)} folds of about ${n(folds[0]!.events)} events (a minute at 5,000 events/s): the first ${folds[0]!.seconds.toFixed(1)} s (${folds[0]!.cpuSeconds.toFixed(1)} s of CPU), the last, beside ${n(last.idsHeld)} ids held, ${last.seconds.toFixed(1)} s (${last.cpuSeconds.toFixed(1)} s of CPU)`);
    for (const [i, f] of folds.entries()) if (f.partsMerged > 0) out(`    fold ${i + 1} merged ${f.partsMerged} parts with its new rows into one: ${f.seconds.toFixed(1)} s (${f.cpuSeconds.toFixed(1)} s of CPU)`);
  }
  const perEvent = (name: RollupName) => Object.values(c.rollupColumnBytesPerEvent[name]).reduce((a, b) => a + b, 0);
  out(`  rollup bytes per event (every column): ${ROLLUP_NAMES.map((name) => `${name} ${perEvent(name).toFixed(2)}`).join(', ')}`);
}

function printCollector(c: CollectorBenchResult): void {
  const out = (line: string) => console.log(line);
  const row = (label: string, r: CollectorBenchResult['collector']) =>
    out(`  ${label.padEnd(38)} ${n(r.eventsPerSecond).padStart(7)} events/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (${n(r.requests)} requests in ${r.seconds.toFixed(1)} s, ${r.non2xx + r.errors} failed)`);
  out(`collector, Segment batches of ${c.eventsPerRequest} events from ${c.connections} connections, Kafka co-located:`);
  row('collector to Kafka (acks=all)', c.collector);
  row('baseline: the stream acknowledging at once', c.noStream);
  out(`  at ${n(c.atRate.requestsPerSecond * c.eventsPerRequest)} events/s offered (${c.atRate.requestsPerSecond} requests/s):`);
  row('collector to Kafka (acks=all)', c.atRate.collector);
  row('baseline: the stream acknowledging at once', c.atRate.noStream);
  const r = c.restart;
  out(`  broker stopped for ${r.downSeconds} s under load: ${n(r.acknowledged)} events acknowledged, ${n(r.lost)} of them missing from the topic (${n(r.refused)} requests refused with 503 meanwhile)`);
  const cost = (k: CollectorBenchResult['cloudCost']['single']) =>
    `$${k.total.toFixed(3)} (CloudFront $${k.cloudFront.toFixed(3)}, Lambda $${k.lambda.toFixed(3)}, Kinesis $${k.kinesis.toFixed(3)})`;
  out(`  cloud, per million events (${(c.cloudCost.secondsPerRequest * 1000).toFixed(0)} ms of a 512 MB function per request): one event per request ${cost(c.cloudCost.single)}; ${c.eventsPerRequest} per request ${cost(c.cloudCost.batched)}`);
}

function printApi(api: Awaited<ReturnType<typeof benchApi>>, athena: ReturnType<typeof dashboardAthenaCost>): void {
  const out = (line: string) => console.log(line);
  const row = (label: string, r: Awaited<ReturnType<typeof benchApi>>['kpis']) =>
    out(`  ${label.padEnd(36)} ${n(r.requestsPerSecond).padStart(7)} requests/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  (${n(r.requests)} in ${r.seconds.toFixed(1)} s, ${r.non2xx + r.errors} failed)`);
  out(`query API, ${api.connections} connections, lake of ${n(api.lakeEvents)} events in the last hour (${api.lakeFiles} files):`);
  row('/api/dashboard (every panel)', api.dashboard);
  row('/api/query/kpis', api.kpis);
  row('baseline: /styles.css', api.staticFile);
  row('baseline: /api/query/kpis, no cache', api.kpisUncached);
  const a = athena;
  const mib = (bytes: number) => `${n(bytes / 2 ** 20)} MiB`;
  out(`Athena, one open dashboard on the last hour at ${n(a.eventsPerSecond)} events/s:`);
  out(`  ${mib(a.bytesPerRefresh)} billed per refresh ($${a.dollarsPerRefresh.toFixed(4)}) × ${n(a.refreshesPerHour)} refreshes/h (every ${a.refreshSeconds} s, ${a.rangeStepSeconds} s step) = $${a.dollarsPerHour.toFixed(2)}/h`);
  out(`  baseline: unaligned, every 5 s: ${n(a.baseline.refreshesPerHour)} refreshes/h = $${a.baseline.dollarsPerHour.toFixed(2)}/h`);
  out(`  baseline: the named queries one by one: ${mib(a.namedQueries.bytesPerRefresh)} per refresh = $${a.namedQueries.dollarsPerHour.toFixed(2)}/h`);
  out(`  floor (10 MB per query): $${a.floor.dollarsPerHour.toFixed(3)}/h; with the compactor and rollups: see --only compaction`);
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
  printHandler(handler);
  printDashboard(dashboard);
  out(`end to end (everything on this machine), ${pipeline.stepSeconds} s per rate:`);
  for (const s of pipeline.steps) {
    out(`  ${n(s.targetPerSecond).padStart(7)}/s  produced ${n(s.producedPerSecond)}/s  lag at stop ${n(s.lagAtStop)}  ${s.keptUp ? `kept up (drained in ${s.drainSeconds?.toFixed(1)} s)` : 'fell behind'}`);
  }
  out(`  sustained ${n(pipeline.sustainedEventsPerSecond)} events/s; producer alone ${n(producer.clickstreamProducer)} events/s`);
  const f = pipeline.freshness;
  const seconds = (x: Freshness) => `p50 ${x.p50Seconds.toFixed(2)} s  p95 ${x.p95Seconds.toFixed(2)} s  p99 ${x.p99Seconds.toFixed(2)} s`;
  out(`  freshness at ${n(f.ratePerSecond)}/s: ${seconds(f)}  (floor: window + sync = ${f.floorSeconds} s)`);
  const during = pipeline.freshnessDuringCompaction;
  out(`    while a compaction run compacts a settled hour of ${n(during.compactedEvents)} events (${during.compactionSeconds.toFixed(0)} s): ${seconds(during)}`);
  const c = cost.perMillionEvents;
  out(`cloud cost per million events: consumer $${c.consumer.dollars.toFixed(4)} (Lambda $${c.consumer.lambdaDollars.toFixed(4)}, S3 $${c.consumer.s3Dollars.toFixed(4)}) vs Firehose $${c.firehose.dollars.toFixed(4)} (Direct PUT or Kinesis source) ratio ${c.ratio.toFixed(3)}, $${c.firehoseFromMsk.dollars.toFixed(4)} (MSK source) ratio ${c.ratioToMsk.toFixed(3)}`);
  for (const r of cost.athenaLastHourRefresh) out(`  Athena, one last-hour refresh at ${n(r.eventsPerSecond)} events/s: ${(r.bytesScanned / 2 ** 20).toFixed(0)} MiB billed, $${r.dollars.toFixed(5)}`);
}

function printDashboard(dashboard: Awaited<ReturnType<typeof benchDashboard>>): void {
  const out = (line: string) => console.log(line);
  out(`dashboard refresh (${QUERY_NAMES.length} queries, DuckDB): lake of ${n(dashboard.lakeEvents)} events in ${dashboard.lakeFiles} files`);
  out(`  last hour                       p50 ${n(dashboard.lastHour.p50Ms)} ms  p95 ${n(dashboard.lastHour.p95Ms)} ms`);
  out(`  last hour, raw files + window   p50 ${n(dashboard.rawFilesLastHour.p50Ms)} ms  p95 ${n(dashboard.rawFilesLastHour.p95Ms)} ms`);
  out(`  last 24 h (ending ${LAKE_END_MINUTE} minutes into an hour)  p50 ${n(dashboard.last24Hours.p50Ms)} ms  p95 ${n(dashboard.last24Hours.p95Ms)} ms`);
  out(`  last 24 h, products and activity per device and source  p50 ${n(dashboard.last24HoursWithoutDefaultView.p50Ms)} ms  p95 ${n(dashboard.last24HoursWithoutDefaultView.p95Ms)} ms`);
  out(`  last 24 h, the engine before (one reader of every core, no default view)  p50 ${n(dashboard.last24HoursOneReader.p50Ms)} ms  p95 ${n(dashboard.last24HoursOneReader.p95Ms)} ms`);
  out(`  last 24 h, settled hours rolled up only  p50 ${n(dashboard.last24HoursSettledOnly.p50Ms)} ms  p95 ${n(dashboard.last24HoursSettledOnly.p95Ms)} ms`);
  out(`  last 24 h, rollups without counts  p50 ${n(dashboard.last24HoursWithoutCounts.p50Ms)} ms  p95 ${n(dashboard.last24HoursWithoutCounts.p95Ms)} ms`);
  out(`  last 24 h, without rollups      p50 ${n(dashboard.last24HoursWithoutRollups.p50Ms)} ms  p95 ${n(dashboard.last24HoursWithoutRollups.p95Ms)} ms`);
  out(`  loading the lake at start       ${dashboard.loadSeconds.toFixed(1)} s (rollups included), ${(dashboard.tableMemoryBytes / 2 ** 20).toFixed(0)} MiB in DuckDB`);
}

/** The consumer core beside JSON.parse, the cold start beside a bare Node start, and (with --only handler) every bundle's size. */
function printHandler(handler: Awaited<ReturnType<typeof benchHandler>>, bundles: readonly BundleSize[] = []): void {
  const out = (line: string) => console.log(line);
  const kib = (bytes: number) => `${n(Math.round(bytes / 1024))} KiB`;
  out(`consumer core: ${n(handler.records)} records, ${(handler.batchBytes / 1e6).toFixed(1)} MB, median of ${handler.rounds} rounds`);
  out(`  decode + validate + group + Parquet  ${n(handler.coreEventsPerSecond)} events/s`);
  out(`  JSON.parse only                      ${n(handler.jsonParseEventsPerSecond)} events/s   cost ${handler.costOverJsonParse.toFixed(1)}x (in CPU time ${handler.cpuCostOverJsonParse.toFixed(1)}x), alternating in one process`);
  const apart = handler.phasesApart;
  out(`  phases apart (each in its own process, ${apart.pairs} pairs of ${apart.rounds} rounds): core ${apart.coreCpuMs.toFixed(1)} ms of CPU, JSON.parse ${apart.jsonParseCpuMs.toFixed(1)} ms`);
  out(`    cost ${apart.cpuCostOverJsonParse.toFixed(2)}x in CPU time (wall ${apart.costOverJsonParse.toFixed(2)}x); by pair ${apart.pairCpuCosts.map((c) => `${c.toFixed(2)}x`).join(', ')}`);
  out(`  bundle ${kib(handler.bundleBytes)}; cold start ${handler.coldStartMs.toFixed(0)} ms vs bare node ${handler.bareNodeStartMs.toFixed(0)} ms (+${(handler.coldStartMs - handler.bareNodeStartMs).toFixed(0)} ms)`);
  out(`  in CPU time: ${handler.coldStartCpuMs.toFixed(0)} ms vs ${handler.bareNodeStartCpuMs.toFixed(0)} ms (+${(handler.coldStartCpuMs - handler.bareNodeStartCpuMs).toFixed(0)} ms)`);
  out(`  the SDK's S3 client alone, bundled the same way: +${(handler.sdkS3ClientStartMs - handler.bareNodeStartMs).toFixed(0)} ms (CPU time +${(handler.sdkS3ClientStartCpuMs - handler.bareNodeStartCpuMs).toFixed(0)} ms)`);
  for (const b of bundles) {
    const lazy = b.lazyBytes > 0 ? ` (+ ${kib(b.lazyBytes)} loaded on demand)` : '';
    out(`bundle ${b.name.padEnd(10)} ${kib(b.bytes).padStart(10)}${lazy}   ${b.topPackages.map((p) => `${p.name} ${kib(p.bytes)}`).join(', ')}`);
    for (const p of b.paths) out(`  with ${p.module}: ${kib(p.bytes)} in all`);
  }
}
