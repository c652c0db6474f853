/**
 * Athena's SQL on a real Trino (Athena engine v3 is Trino): every named query in
 * the Athena dialect, run through the query API on Trino's Hive connector over
 * the lake in MinIO, must give the local engine's answers (DuckDB over a mirror
 * of the same bucket) for several ranges and filters, in any session time zone,
 * reading the events table once. The lake is written by the pipeline: simulator
 * records with copies, late and malformed ones, through the real broker, the
 * event-source runner and the bundled consumer handler, into a bucket of its own.
 * The events are a lake that lived through schema v2 (test/site-traffic.ts): a real
 * site's events with unknown values and bots, and for 50 minutes v1 events in files
 * the v1 consumer wrote (demographics and device required), beside v2 files in the
 * same hour, which the compactor merges. Trino runs only for this file (one per run:
 * nothing else needs it).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { MANIFEST_KEY, parseManifest } from '../../lambdas/common/compaction-manifest.ts';
import { compactLake } from '../../lambdas/compactor/compact-lake.ts';
import { foldOpenHours } from '../../lambdas/compactor/fold-open-hours.ts';
import { lateKeyEventHours } from '../../lambdas/consumer/lake-keys.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { dashboardSql, suffixOf } from '../../lambdas/query/dashboard-statement.ts';
import { ALL_ATHENA_TABLES, ATHENA_ROLLUP_TABLES, ATHENA_TABLES } from '../../lambdas/query/dialect.ts';
import { storeLakeView } from '../../lambdas/query/lake-view-source.ts';
import { QUERY_NAMES, querySql, ROLLUP_OF, type QueryName } from '../../lambdas/query/named-queries.ts';
import { parseParameters } from '../../lambdas/query/parameters.ts';
import { QueryApi, type Row } from '../../lambdas/query/query-api.ts';
import { EventProducer } from '../../lambdas/common/event-producer.ts';
import { ShopperSimulator, type SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { bundleLambda } from '../../local/common/bundle.ts';
import { consumerLag } from '../../local/consume/consumer-lag.ts';
import { DuckDbLake } from '../../local/lake/duckdb-lake.ts';
import { EventSourceRunner, type Handler } from '../../local/consume/event-source-runner.ts';
import { LakeMirror } from '../../local/lake/lake-mirror.ts';
import { listObjects } from '../../local/lake/s3-objects.ts';
import { handlerEnv } from '../../local/consume/consumer-service.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { localObjectStore, localS3Client, minioCredentials, s3Endpoint } from '../../local/services/minio.ts';
import { TrinoEngine } from '../trino/engine.ts';
import { createLakeTables, syncPartitions } from '../trino/lake-tables.ts';
import { startTrino, TRINO_CATALOG, trinoPort } from '../trino/server.ts';
import { AthenaStandIn } from '../athena/athena-stand-in.ts';
import { asSiteTraffic, encodeEitherVersion } from '../site-traffic.ts';
import { PRICES } from '../../local/bench/cost-model.ts';
import { answerDifferences as differences, createTestTopic, invokeBundle } from './helpers.ts';

const config = inject('config');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const PARTITIONS = 3;
const SCHEMA = 'clickstream_test';

/**
 * The data spans the most recent first of a month at least a day ago, from 22:40
 * to 01:20 UTC: an hour, a day, a month (and in January a year) boundary. Past
 * enough that every range below ends before "now + 1 day", as the API requires.
 */
function monthBoundary(now: number): number {
  const d = new Date(now);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return now - first >= 2 * DAY ? first : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
}
const MIDNIGHT = monthBoundary(Date.now());
const START = MIDNIGHT - 80 * MINUTE;
const END = MIDNIGHT + 80 * MINUTE;
const startedAt = Date.now();

/** Where a case's range starts inside an hour. */
const ODD_SECOND = START + 1_003_000;
/** Ranges and filters, each run for every named query. */
const CASES: [string, Record<string, string>][] = [
  ['the whole run, minute buckets', { from: String(START - 10 * MINUTE), to: String(END + 10 * MINUTE) }],
  ['the whole run, bots only', { from: String(START - 10 * MINUTE), to: String(END + 10 * MINUTE), device: 'bot' }],
  ['across midnight, mobile only', { from: String(MIDNIGHT - 35 * MINUTE), to: String(MIDNIGHT + 25 * MINUTE), device: 'mobile' }],
  ['odd seconds inside one hour, organic search', { from: new Date(ODD_SECOND).toISOString(), to: new Date(START + 47 * MINUTE + 7_000).toISOString(), source: 'organic_search' }],
  ['two days, hour buckets, US only', { from: String(MIDNIGHT - DAY), to: String(MIDNIGHT + DAY), country: 'US' }],
  ['ten days, day buckets, desktop from email', { from: String(MIDNIGHT - 8 * DAY), to: String(MIDNIGHT + 2 * DAY), device: 'desktop', source: 'email' }],
  ['a range without data', { from: String(MIDNIGHT - 5 * DAY), to: String(MIDNIGHT - 4 * DAY) }],
  // Quarantine is partitioned by ingest time, which is the wall clock of this run.
  ['the ingest window (quarantine)', { from: String(Math.floor(startedAt / MINUTE) * MINUTE - HOUR), to: String(Math.ceil(Date.now() / MINUTE) * MINUTE + HOUR) }],
  ['from half a minute inside an hour (the hosted page aligns to 30 s) to past the run', { from: String(MIDNIGHT - 39 * MINUTE - 30_000), to: String(END + 10 * MINUTE) }],
];

const bucket = `clickstream-trino-${randomBytes(4).toString('hex')}`;
const cleanups: (() => Promise<void> | void)[] = [];
const sent: SimulatedRecord[] = [];
let s3: S3Client;
let trino: TrinoEngine;
let duckdb: DuckDbLake;
let mirror: LakeMirror;
let mirrorDir: string;

/**
 * The simulator's records into our bucket, in two ways. Those before midnight go through the real
 * broker and the runner with the bundled handler: days after their hours closed, so they land in
 * late files, as a replay would. Those after midnight are consumed as they happen (each batch
 * ingested a minute after its newest event), so they land in the raw hour partitions.
 */
async function writeLake(): Promise<void> {
  const topic = await createTestTopic(config, PARTITIONS);
  cleanups.push(topic.remove);
  const sim = new ShopperSimulator({ seed: 476, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: true, inject: { duplicates: 0.03, late: 0.02, malformed: 0.01 } });
  let split = 0;
  for (;;) {
    const r = sim.nextRecord();
    if (r.event && r.event.event_time >= END) break;
    if (r.event && r.event.event_time < MIDNIGHT) split = sent.length + 1;
    // The v1 era: the first 50 minutes after midnight. The records consumed as they happen start at about 00:30
    // (the last record before midnight, a late or re-sent one, comes that late), so the v1 consumer's files of
    // 00:30 to 00:50 share hour 00 with v2 files, and the compactor merges them.
    sent.push(asSiteTraffic(r, { v1Era: [MIDNIGHT, MIDNIGHT + 50 * MINUTE] }));
  }
  const live = sent.slice(split);
  let newest = MIDNIGHT;
  for (let i = 0; i < live.length; i += 700) {
    const batch = live.slice(i, i + 700);
    for (const r of batch) newest = Math.max(newest, r.event?.event_time ?? newest);
    const records = batch.map((r, j) => ({ topic: 'live', partition: 0, offset: String(i + j), value: r.value }));
    await consumeRecords(localObjectStore(config, bucket), records, newest + MINUTE, encodeEitherVersion);
  }
  // Re-sent events whose copies differ in event time: a tracker's retry whose clock the collector corrected
  // by a few milliseconds more (lambdas/collector/envelope.ts). One across midnight, its copy (ingested
  // later) in the next hour, day and month: each hour counts its own copy, in every engine. One across the
  // start of a case's range inside an hour, its copy on another device: the copy kept is the first to
  // arrive, outside the range, whatever the copy inside matches (docs/architecture.md, "Compaction").
  const event = live.find((r) => r.event?.schema_version === 2)!.event!;
  const pairs = [
    [{ ...event, event_id: randomUUID(), event_time: MIDNIGHT - 1 }, { event_time: MIDNIGHT + 2 }],
    [{ ...event, event_id: randomUUID(), event_time: ODD_SECOND - 1, device_type: 'desktop', traffic_source: 'organic_search' }, { event_time: ODD_SECOND + 2, device_type: 'mobile' }],
  ] as const;
  for (const [i, [original, change]] of pairs.entries()) {
    for (const [j, [copy, at]] of ([[original, MIDNIGHT + MINUTE], [{ ...original, ...change }, MIDNIGHT + 2 * MINUTE]] as const).entries()) {
      const record = { key: copy.session_id, value: Buffer.from(JSON.stringify(copy)), event: copy };
      sent.push(record);
      // Offsets of their own: a record at an offset already written is a re-delivery, which the consumer skips.
      await consumeRecords(localObjectStore(config, bucket), [{ topic: 'resent', partition: 0, offset: String(2 * i + j), value: record.value }], at, encodeEitherVersion);
    }
  }
  // A careless sender's copies under two sessions, so two partitions, in one consumer invocation: one ingest
  // time. The copy kept is the first by source (partition 2 before 10, as numbers), whichever file sorts first.
  const tied = { ...event, event_id: randomUUID(), event_time: MIDNIGHT + 10 * MINUTE, device_type: 'desktop' as const };
  const copies = [tied, { ...tied, session_id: `${tied.session_id}-again`, device_type: 'mobile' as const }].map((copy) => ({ key: copy.session_id, value: Buffer.from(JSON.stringify(copy)), event: copy }));
  sent.push(...copies);
  await consumeRecords(localObjectStore(config, bucket), copies.map((c, i) => ({ topic: 'resent', partition: [2, 10][i]!, offset: '0', value: c.value })), MIDNIGHT + 20 * MINUTE, encodeEitherVersion);
  const producer = new EventProducer({ bootstrapServers: [bootstrapServers(config)], topic: topic.topic });
  for (let i = 0; i < split; i += 500) await producer.send(sent.slice(i, Math.min(i + 500, split)));
  await producer.close();

  // The handler reads its bucket from the environment at import, as in Lambda.
  Object.assign(process.env, handlerEnv({ ...config, bucket }));
  const { handler } = (await import(pathToFileURL(await bundleLambda('consumer')).href)) as { handler: Handler };
  const groupId = `trino-test-${randomBytes(4).toString('hex')}`;
  // Small batches: many files per hour, so a re-sent event's copy often lands in another file than its original.
  const runner = new EventSourceRunner({ bootstrapServers: [bootstrapServers(config)], topic: topic.topic, groupId, batchSize: 700, batchingWindowSeconds: 0.2, handler, onFailure: { write: () => Promise.resolve() } });
  cleanups.push(() => runner.stop());
  await runner.start();
  const deadline = Date.now() + 180_000;
  while ((await consumerLag([bootstrapServers(config)], topic.topic, PARTITIONS, groupId)).some((p) => p.lag > 0)) {
    if (Date.now() > deadline) throw new Error('the runner did not consume the test topic within 180 s');
    await sleep(250);
  }
  await runner.stop();
}

beforeAll(async () => {
  const port = trinoPort();
  s3 = localS3Client(config);
  cleanups.push(() => s3.destroy());
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  cleanups.push(() => deleteBucket(s3, bucket));
  // Trino takes about half a minute to start: it starts while the pipeline writes the lake. Both are
  // waited for, so a failed write never leaves a Trino running that no cleanup knows of.
  const [server, lake] = await Promise.allSettled([
    startTrino({
      cacheDir: config.cacheDir,
      port,
      s3: { endpoint: s3Endpoint(config), region: 'us-east-1', ...minioCredentials(config) },
      log: (line) => console.log(`[trino] ${line}`),
    }),
    writeLake(),
  ]);
  if (server.status === 'fulfilled') cleanups.push(() => server.value.stop());
  if (server.status === 'rejected') throw server.reason;
  if (lake.status === 'rejected') throw lake.reason;
  // Like the query API Lambda, it reads the compaction manifest and the late files' listing for each answer.
  trino = new TrinoEngine({ url: server.value.url, catalog: TRINO_CATALOG, schema: SCHEMA, bucket, lakeView: storeLakeView(localObjectStore(config, bucket)) });
  await createLakeTables(trino, SCHEMA, bucket);
  await syncPartitions(trino, SCHEMA);

  mirrorDir = mkdtempSync(join(tmpdir(), 'clickstream-trino-mirror-'));
  cleanups.push(() => rmSync(mirrorDir, { recursive: true, force: true }));
  mirror = new LakeMirror(s3, bucket, mirrorDir);
  await mirror.sync();
  duckdb = await DuckDbLake.open(mirrorDir, { files: mirror.keys() });
  cleanups.push(() => duckdb.close());
}, 600_000);

afterAll(async () => {
  // Each step on its own: one that fails (say, a start that never finished) must not keep Trino running.
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error: unknown) => console.error(error));
});

async function deleteBucket(client: S3Client, name: string): Promise<void> {
  const keys = (await listObjects(client, name, '')).map((o) => ({ Key: o.key }));
  for (let i = 0; i < keys.length; i += 1000) await client.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys.slice(i, i + 1000) } }));
  await client.send(new DeleteBucketCommand({ Bucket: name }));
}

/** The API's answer without the time it was generated. */
async function answer(api: QueryApi, name: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await api.handle(name, params);
  expect(response.statusCode, `${name}: ${response.body}`).toBe(200);
  const { generatedAt: _, ...body } = JSON.parse(response.body) as Record<string, unknown>;
  return body;
}

async function compareEngines(engine: TrinoEngine, params: Record<string, string>): Promise<void> {
  const onTrino = new QueryApi({ engine });
  const onDuckDb = new QueryApi({ engine: duckdb });
  for (const name of QUERY_NAMES) {
    const [athenaSql, local] = [await answer(onTrino, name, params), await answer(onDuckDb, name, params)];
    expect(differences(athenaSql, local, name), `${name} ${JSON.stringify(params)}`).toEqual([]);
  }
}

/** The dashboard's answer (on Trino in one statement) against the local engine's named queries. */
async function compareDashboards(engine: TrinoEngine, params: Record<string, string>): Promise<void> {
  const [onTrino, onDuckDb] = await Promise.all([new QueryApi({ engine }).handleDashboard(params), new QueryApi({ engine: duckdb }).handleDashboard(params)]);
  expect(onTrino.statusCode, onTrino.body).toBe(200);
  const strip = (body: string) => JSON.parse(body.replace(/"generatedAt":"[^"]*"/g, '"generatedAt":null')) as unknown;
  expect(differences(strip(onTrino.body), strip(onDuckDb.body), 'dashboard'), JSON.stringify(params)).toEqual([]);
}

const rowsOf = (answer: Record<string, unknown> | undefined) => (answer?.rows ?? []) as Row[];

/** The engine with its dialect picking files by their hour partition and name, as a statement too long by whole paths does (fitStatement). */
function pickingByName(engine: TrinoEngine): TrinoEngine {
  return Object.assign(Object.create(engine) as TrinoEngine, { dialect: { ...engine.dialect, pathsByName: true } });
}

describe("Athena's SQL on Trino, against the local engine over the same lake", () => {
  it('has a lake worth comparing: copies of events across files, late and quarantined records', async () => {
    const [raw] = await trino.run(`SELECT count(*) AS rows, count(DISTINCT event_id) AS events, count_if(late) AS late_rows
      FROM (SELECT event_id, false AS late FROM ${trino.dialect.eventsTable} UNION ALL SELECT event_id, true FROM ${trino.dialect.lateTable!})`);
    expect(raw!.events).toBe(new Set(sent.filter((r) => r.event && r.injected !== 'malformed').map((r) => r.event!.event_id)).size);
    expect(raw!.rows as number).toBeGreaterThan(raw!.events as number);
    // Both ways in: raw hour partitions and late files, each with a good share of the rows.
    expect(raw!.late_rows as number).toBeGreaterThan((raw!.rows as number) / 4);
    expect(raw!.late_rows as number).toBeLessThan(((raw!.rows as number) * 3) / 4);
    expect(sent.filter((r) => r.injected === 'late').length).toBeGreaterThan(50);
    const [quarantined] = await trino.run(`SELECT count(*) AS records FROM ${trino.dialect.quarantineTable}`);
    expect(quarantined!.records).toBe(sent.filter((r) => r.injected === 'malformed').length);
    // The ranges compare answers with something in them: the whole run, and the quarantine by reason.
    const api = new QueryApi({ engine: trino });
    expect(rowsOf(await answer(api, 'kpis', CASES[0]![1]))[0]!.events as number).toBeGreaterThan(15_000);
    expect(rowsOf(await answer(api, 'quarantine', CASES[7]![1])).length).toBeGreaterThan(3);
  });

  it('has a lake of both schema versions: v1 files with the fields v1 required beside v2 files with them null, and bots', async () => {
    const [counts] = await trino.run(`SELECT count_if(schema_version = 1) AS v1, count_if(device_type = 'bot') AS bots, count_if(device_type IS NULL) AS no_device,
      count_if(user_age IS NULL) AS no_age, count_if(user_gender IS NULL) AS no_gender, count_if(user_country IS NULL) AS no_country,
      count_if(product_id IS NOT NULL AND product_category IS NULL) AS no_category, count_if(product_id IS NOT NULL AND product_brand IS NULL) AS no_brand
      FROM (SELECT * FROM ${trino.dialect.eventsTable} UNION ALL SELECT * FROM ${trino.dialect.lateTable!})`);
    for (const [what, n] of Object.entries(counts!)) expect(n as number, what).toBeGreaterThan(100);
    // The v1 consumer's files and v2 files in one hour partition.
    const files = await duckdb.run(`SELECT repetition_type AS repetition, count(DISTINCT file_name) AS files FROM parquet_schema('${mirrorDir}/events/*/*/*/hour=00/*.parquet')
      WHERE name = 'user_age' GROUP BY 1 ORDER BY 1`);
    expect(files.map((f) => f.repetition)).toEqual(['OPTIONAL', 'REQUIRED']);
  });

  it.each(CASES)('every named query over %s gives the same answer', async (_case, params) => {
    await compareEngines(trino, params);
  });

  it.each(CASES.slice(0, 2))('gives the same answers with the session in New York time, over %s', async (_case, params) => {
    await compareEngines(trino.withTimeZone('America/New_York'), params);
    await compareDashboards(trino.withTimeZone('America/New_York'), params);
  });

  it.each(CASES)('answers the dashboard in one statement over %s as the local engine does', async (_case, params) => {
    await compareDashboards(trino, params);
  });

  it('reads each event table at most once per query, and once for the whole dashboard (Athena bills every scan)', async () => {
    // The run's raw hours, and the late files read beside them through the same de-duplication window.
    expect(await scansPerQuery(CASES[0]![1])).toEqual(Object.fromEntries(QUERY_NAMES.map((name) => [name, name === 'quarantine' ? { quarantine: 1 } : { events: 1, events_late: 1 }])));
    expect(await scansOf(dashboardSql(trino.dialect, parseParameters(CASES[0]![1], Date.now()), await trino.lakeView()))).toEqual({ events: 1, events_late: 1, quarantine: 1 });
  });

  it('reads the last 48 KiB of every Parquet file it opens, as the cost model prices a file opened', async () => {
    // No column is read for count(*): what it reads is each file's tail, for the footer (the whole file if smaller).
    const files = await listObjects(s3, bucket, 'events/');
    expect(files.length).toBeGreaterThan(10);
    const tails = files.reduce((total, f) => total + Math.min(f.size, PRICES.athenaParquetOpenBytes), 0);
    expect(await trino.bytesRead(`SELECT count(*) FROM ${SCHEMA}.${ATHENA_TABLES.events}`)).toBe(tails);
  });

  it('reads a fraction of the bytes the named queries read one by one, over raw files', async () => {
    const bytes = await bytesPerRefresh(CASES[0]![1]);
    console.log(`bytes read over raw files: ${JSON.stringify(bytes)}`);
    expect(bytes.oneStatement).toBeGreaterThan(0);
    expect(bytes.oneStatement).toBeLessThan(bytes.namedQueries / 3);
  });
});

/** The bytes Trino reads from the files for the dashboard's panels: in one statement, and as the named queries one by one. */
async function bytesPerRefresh(query: Record<string, string>): Promise<{ oneStatement: number; namedQueries: number }> {
  const params = parseParameters(query, Date.now());
  const view = await trino.lakeView();
  let namedQueries = 0;
  for (const name of QUERY_NAMES.filter((q) => q !== 'quarantine')) namedQueries += await trino.bytesRead(querySql(name, trino.dialect, params, view));
  return { oneStatement: await trino.bytesRead(dashboardSql(trino.dialect, params, view)), namedQueries };
}

/** How many times each event table is scanned by each named query's plan. */
async function scansPerQuery(query: Record<string, string>): Promise<Record<string, Record<string, number>>> {
  const params = parseParameters(query, Date.now());
  const view = await trino.lakeView();
  const scans: Record<string, Record<string, number>> = {};
  for (const name of QUERY_NAMES) scans[name] = await scansOf(querySql(name, trino.dialect, params, view));
  return scans;
}

/** How many times each lake table is scanned by a statement's plan. */
async function scansOf(sql: string): Promise<Record<string, number>> {
  const plan = (await trino.run(`EXPLAIN ${sql}`)).map((r) => String(r['Query Plan'])).join('\n');
  const scans: Record<string, number> = {};
  for (const table of ALL_ATHENA_TABLES) {
    const count = (plan.match(new RegExp(`table = ${TRINO_CATALOG}:${SCHEMA}:${table}\\b`, 'g')) ?? []).length;
    if (count > 0) scans[table] = count;
  }
  return scans;
}

describe('the Athena SQL reading open hours folded, on Trino', () => {
  const store = () => localObjectStore(config, bucket);
  /** Ten minutes after the run's last hour began: hours 00 and 01 are open, 23 has settled (and stays raw). */
  const FOLDED_AT = MIDNIGHT + 70 * MINUTE;
  const fold = (maxFoldBytes?: number) => foldOpenHours({ store: store(), timing: DEFAULT_LAKE_TIMING, retentionMs: DAY, now: () => FOLDED_AT, ...(maxFoldBytes && { maxFoldBytes }) });
  let folded: TrinoEngine;

  beforeAll(async () => {
    // A raw file a fold, so that the hours' parts are merged (four of a size into one) as they are at any rate.
    let result = await fold(1);
    expect(result).toMatchObject({ hoursFolded: 2, filesUnknown: 0 });
    let merged = result.partsMerged;
    while (result.filesLeft > 0) merged += (result = await fold(1)).partsMerged;
    expect(merged).toBeGreaterThan(0);
    // The parts' hour partitions of the compacted table (Glue projects them in the cloud).
    await syncPartitions(trino, SCHEMA);
    folded = trino.withLakeView(storeLakeView(store(), 'folded'));
  });

  it.each(CASES)("every named query, and the dashboard in one statement, over %s gives the local engine's answer once every raw file is folded", async (_case, params) => {
    await compareEngines(folded, params);
    await compareDashboards(folded, params);
  });

  it("reads the open hours' parts through the compacted table, by path or by name, and fewer bytes than over their raw files", async () => {
    const params = parseParameters(CASES[0]![1], Date.now());
    const view = await folded.lakeView();
    const parts = [...view.compacted.values()].flat();
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.every((key) => /^compacted\/year=.+\/f\d+-[0-9a-f]+-[nm]\.parquet$/.test(key))).toBe(true);
    expect(parts.some((key) => key.endsWith('-m.parquet'))).toBe(true);
    // Twice where some of the hours go through the window with late files and the others do not, as for compacted hours.
    expect((await scansOf(dashboardSql(folded.dialect, params, view))).events_compacted).toBeGreaterThan(0);
    await compareDashboards(pickingByName(folded), CASES[0]![1]);
    // 01:00 to 01:20, where no late file has rows (the run's late events are of 00:00 and before): read without the window.
    const open = { from: String(MIDNIGHT + HOUR), to: String(END) };
    const openParams = parseParameters(open, Date.now());
    expect(view.unfoldedLate.some((key) => /-h\d/.test(key) && lateKeyEventHours(key)!.some(([a, b]) => b >= MIDNIGHT + HOUR && a < END))).toBe(false);
    const [overParts, overRaw] = [await trino.bytesRead(dashboardSql(folded.dialect, openParams, view)), await trino.bytesRead(dashboardSql(trino.dialect, openParams, await trino.lakeView()))];
    console.log(`bytes read for 01:00-01:20: over the parts ${overParts}, over the raw files ${overRaw}`);
    expect(dashboardSql(folded.dialect, openParams, view)).not.toContain('PARTITION BY event_id');
    expect(dashboardSql(trino.dialect, openParams, await trino.lakeView())).toContain('PARTITION BY event_id');
    expect(overParts).toBeLessThan(overRaw);
  });

  it('counts events the last fold has not read only once a fold reads them, where reading raw counts them at once', async () => {
    const sim = new ShopperSimulator({ seed: 4762, startTimeMs: MIDNIGHT + 65 * MINUTE, eventsPerSecond: 1, dailyCurve: false, warmStart: false });
    const more = Array.from({ length: 30 }, () => sim.nextRecord()).filter((r) => r.event);
    sent.push(...more);
    await consumeRecords(store(), more.map((r, i) => ({ topic: 'after.fold', partition: 0, offset: String(i), value: r.value })), FOLDED_AT - MINUTE, encodeParquet);
    const events = async (engine: TrinoEngine) => rowsOf(await answer(new QueryApi({ engine }), 'kpis', CASES[0]![1]))[0]!.events as number;
    const [before, raw] = [await events(folded), await events(trino)];
    expect(raw - before).toBe(more.length);
    expect(await fold()).toMatchObject({ hoursFolded: 1, eventsFolded: more.length });
    expect(await events(folded)).toBe(raw);
  });
});

describe('the Athena SQL over a compacted lake, on Trino', () => {
  const store = () => localObjectStore(config, bucket);
  /** The compactor an hour from now: every late file this run wrote is settled by then. */
  const compact = () => compactLake({ store: store(), timing: DEFAULT_LAKE_TIMING, retentionMs: DAY, maxHourBytes: 2 ** 30, now: () => Date.now() + HOUR });
  const refresh = async () => {
    await syncPartitions(trino, SCHEMA);
    await duckdb.apply((await mirror.sync()).changes);
  };

  beforeAll(async () => {
    const result = await compact();
    expect(result.hoursCompacted).toBeGreaterThan(0);
    await refresh();
  });

  it.each(CASES)('every named query, and the dashboard in one statement, over %s gives the local engine\'s answer', async (_case, params) => {
    await compareEngines(trino, params);
    await compareDashboards(trino, params);
  });

  it('picks the same files by hour partition and name as by whole path', async () => {
    const byName = pickingByName(trino);
    const sql = dashboardSql(byName.dialect, parseParameters(CASES[0]![1], Date.now()), await trino.lakeView());
    expect(sql).toContain(`substr("$path", strpos("$path", '/year=') + 1) IN ('year=`);
    expect(sql).not.toContain('"$path" IN');
    for (const [, params] of CASES.slice(0, 3)) {
      await compareEngines(byName, params);
      await compareDashboards(byName, params);
    }
  });

  it('reads the rollups for the whole hours of a compacted range and the compacted files for its edges, each once, with no de-duplication window', async () => {
    // The run from 22:30 to 01:30: 23:00 and 00:00 from the rollups, the rest from the compacted files.
    const expected = (name: QueryName) => (name === 'quarantine' ? { quarantine: 1 } : { events_compacted: 1, [ATHENA_ROLLUP_TABLES[ROLLUP_OF[name].rollup]]: 1 });
    expect(await scansPerQuery(CASES[0]![1])).toEqual(Object.fromEntries(QUERY_NAMES.map((name) => [name, expected(name)])));
    const [params, view] = [parseParameters(CASES[0]![1], Date.now()), await trino.lakeView()];
    expect(querySql('kpis', trino.dialect, params, view)).not.toContain('row_number()');
    // The statement reads the first hour's suffix from 22:30 from the rollups too (suffixOf): the last times of
    // `sessions` and the minutes of `activity` and `product_minutes`, in scans of that hour's files alone.
    expect(suffixOf(params, view)).toEqual({ hour: params.fromMs - 30 * MINUTE, minuteMs: params.fromMs });
    const t = ATHENA_ROLLUP_TABLES;
    expect(await scansOf(dashboardSql(trino.dialect, params, view))).toEqual({ events_compacted: 1, quarantine: 1, [t.sessions]: 2, [t.activity]: 2, [t.products]: 1, [t.product_minutes]: 1 });
    expect(dashboardSql(trino.dialect, params, view)).not.toContain('PARTITION BY event_id');
    const bytes = await bytesPerRefresh(CASES[0]![1]);
    console.log(`bytes read over compacted files and rollups: ${JSON.stringify(bytes)}`);
    expect(bytes.oneStatement).toBeGreaterThan(0);
    expect(bytes.oneStatement).toBeLessThan(bytes.namedQueries / 2);
  });

  it('counts a late event for a compacted hour once, before and after it is folded in', async () => {
    // Ten re-sent copies of events already compacted, and five events never seen, all for the first hour.
    const copies = sent.filter((r) => r.event && r.injected !== 'malformed').slice(0, 10).map((r) => r.value);
    const sim = new ShopperSimulator({ seed: 4761, startTimeMs: START + 5 * MINUTE, eventsPerSecond: 1, dailyCurve: false, warmStart: false });
    const fresh = Array.from({ length: 5 }, () => sim.nextRecord().value);
    const records = [...copies, ...fresh].map((value, i) => ({ topic: 'late.resend', partition: 0, offset: String(i), value }));
    await consumeRecords(store(), records, Date.now(), encodeParquet);
    await refresh();
    const view = await trino.lakeView();
    expect(view.unfoldedLate).toHaveLength(1);
    // Only the hours the late file holds rows of go through the window: the run's other whole hours are still the rollups'.
    const sql = querySql('kpis', trino.dialect, parseParameters(CASES[0]![1], Date.now()), view);
    expect(sql).toContain('row_number()');
    expect(sql).toContain(ATHENA_ROLLUP_TABLES.sessions);
    for (const [, params] of CASES.slice(0, 2)) {
      await compareEngines(trino, params);
      await compareDashboards(trino, params);
    }
    // The late table's files, too.
    await compareDashboards(pickingByName(trino), CASES[0]![1]);

    await compact();
    await refresh();
    expect((await trino.lakeView()).unfoldedLate).toEqual([]);
    const manifest = parseManifest((await store().get(MANIFEST_KEY))?.body);
    expect(Math.max(...Object.values(manifest.hours).map((h) => h.generation))).toBe(2);
    for (const [, params] of CASES.slice(0, 2)) await compareEngines(trino, params);
    // Beside the second generation, the first is still there (deleted a retention later): picked by name, it is not read.
    await compareDashboards(pickingByName(trino), CASES[0]![1]);
  });
});

describe('the query API bundle over Athena\'s API, its SQL run by this Trino', () => {
  let athena: AthenaStandIn;
  let bundle: string;
  beforeAll(async () => {
    athena = await AthenaStandIn.start((sql) => trino.runRaw(sql));
    bundle = await bundleLambda('query-api');
  });
  afterAll(() => athena.close());

  // The lake bucket in MinIO (the function reads the compaction manifest there), Athena's API at the stand-in.
  const env = () => ({
    ...handlerEnv({ ...config, bucket }),
    CLICKSTREAM_GLUE_DATABASE: SCHEMA,
    CLICKSTREAM_ATHENA_WORKGROUP: 'clickstream_dashboard',
    AWS_ENDPOINT_URL_ATHENA: athena.endpoint,
  });

  it('answers /api/dashboard with every panel equal to the local engine, cacheable at the edge', async () => {
    const params = CASES[2]![1];
    const { result, error } = await invokeBundle(bundle, { rawPath: '/api/dashboard', queryStringParameters: params }, env());
    expect(error).toBeUndefined();
    const response = result as { statusCode: number; headers: Record<string, string>; body: string };
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toMatch(/s-maxage=\d+/);
    const local = await new QueryApi({ engine: duckdb }).handlePath('/api/dashboard', params);
    const strip = (body: string) => JSON.parse(body.replace(/"generatedAt":"[^"]*"/g, '"generatedAt":null')) as unknown;
    expect(differences(strip(response.body), strip(local.body), 'dashboard')).toEqual([]);
    // One StartQueryExecution, the dashboard's statement (the quarantine's rows in it), in the configured workgroup.
    const started = [...athena.executions.values()];
    expect(started).toHaveLength(1);
    expect(started.every((e) => e.state === 'SUCCEEDED' && e.workGroup === 'clickstream_dashboard')).toBe(true);
  });

  it('turns a failed Athena query into an error of the function, not a wrong answer', async () => {
    const { result, error } = await invokeBundle(bundle, { rawPath: '/api/query/kpis', queryStringParameters: CASES[0]![1] }, { ...env(), CLICKSTREAM_GLUE_DATABASE: 'no_such_schema' });
    expect(result).toBeUndefined();
    expect(error).toMatch(/Athena query .* failed: .*no_such_schema/i);
  });
});
