/**
 * Every Lambda bundle as CDK ships it. The stack is synthesized (the house construct's
 * esbuild run with the house options), and each function's asset directory is
 * imported in a fresh Node process, with only the environment Lambda would give it,
 * and its handler invoked there against the real broker and the real MinIO. A bundle
 * that throws when it loads (as the simulator's once did in Lambda, reading a wasm
 * file from beside a module that was no longer there) fails here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MANIFEST_KEY, parseManifest } from '../../lambdas/common/compaction-manifest.ts';
import { openHourKey, parseOpenHourRecord } from '../../lambdas/common/open-hour-record.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { hourPartition } from '../../lambdas/consumer/lake-keys.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { ClickstreamStack } from '../../lib/clickstream-stack.ts';
import { handlerEnv } from '../../local/consume/consumer-service.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { localObjectStore, localS3Client } from '../../local/services/minio.ts';
import { testApp } from '../infra/synth.ts';
import { consumeWithJavaClient, invokeBundle } from './helpers.ts';

const config = inject('config');
const s3 = localS3Client(config);

/** A function as Lambda loads it: index.mjs of its asset directory. */
const invoke = (assetDir: string, event: unknown, env: Record<string, string>, exportName?: string) => invokeBundle(join(assetDir, 'index.mjs'), event, env, exportName);

let outdir: string;
const assets: Record<'simulator' | 'consumer' | 'compactor' | 'folder' | 'queryApi' | 'collector', string> = { simulator: '', consumer: '', compactor: '', folder: '', queryApi: '', collector: '' };

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'clickstream-bundles-'));
  const app = testApp({ outdir });
  const stack = new ClickstreamStack(app, 'Bundles', { ingest: 'kinesis' });
  const assembly = app.synth();
  const assetDir = (fn: LambdaFunction) => join(dirname(assembly.getStackArtifact(stack.artifactId).templateFullPath), (fn.node.findChild('Code') as Asset).assetPath);
  assets.simulator = assetDir(stack.simulator!.handler.function);
  assets.consumer = assetDir(stack.consumer.handler.function);
  assets.compactor = assetDir(stack.compactor.handler.function);
  assets.folder = assetDir(stack.compactor.folder!.function);
  assets.queryApi = assetDir(stack.query!.api.function);
  assets.collector = assetDir(stack.collector.handler.function);
}, 300_000);

afterAll(() => {
  s3.destroy();
  rmSync(outdir, { recursive: true, force: true });
});

describe('the synthesized Lambda bundles, each imported in a fresh process and invoked', () => {
  it('simulator: creates the topic and sends one scheduled minute of events to Kafka', async () => {
    const topic = `bundle.${Math.random().toString(36).slice(2, 8)}`;
    const env = {
      CLICKSTREAM_EVENTS_PER_MINUTE: '120',
      CLICKSTREAM_INGEST: 'kafka',
      CLICKSTREAM_BOOTSTRAP_SERVERS: bootstrapServers(config),
      CLICKSTREAM_TOPIC: topic,
      CLICKSTREAM_CREATE_TOPIC_PARTITIONS: '3',
      CLICKSTREAM_KAFKA_TLS: 'false',
      CLICKSTREAM_KAFKA_AUTH: 'none',
    };
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-12-03T06:01:00Z' };
    const { result, error } = await invoke(assets.simulator, scheduled, env);
    expect(error).toBeUndefined();
    expect(result).toEqual({ sent: 120, minuteStart: '2026-12-03T06:00:00.000Z' });

    // Kafka's own Java client reads what the bundle sent.
    const records = await consumeWithJavaClient(config, topic, 120);
    expect(records).toHaveLength(120);
    const events = records.map((r) => JSON.parse(r.value) as { event_time: number; session_id: string });
    for (const [i, e] of events.entries()) {
      expect(e.event_time).toBeGreaterThanOrEqual(Date.parse('2026-12-03T06:00:00Z'));
      // Sessions that start in the minute may run a little past it (as the unit test allows).
      expect(e.event_time).toBeLessThan(Date.parse('2026-12-03T06:02:00Z'));
      expect(records[i]!.key).toBe(e.session_id);
    }
  });

  it('collector: answers a Segment request from a function URL event once Kafka acknowledged the events, keyed by session', async () => {
    const topic = `bundle.${Math.random().toString(36).slice(2, 8)}`;
    // The simulator bundle creates the topic; the collector writes to an existing one, as in the stack.
    await invoke(assets.simulator, { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-12-03T06:01:00Z' }, {
      CLICKSTREAM_EVENTS_PER_MINUTE: '1', CLICKSTREAM_INGEST: 'kafka', CLICKSTREAM_BOOTSTRAP_SERVERS: bootstrapServers(config), CLICKSTREAM_TOPIC: topic,
      CLICKSTREAM_CREATE_TOPIC_PARTITIONS: '3', CLICKSTREAM_KAFKA_TLS: 'false', CLICKSTREAM_KAFKA_AUTH: 'none',
    });
    const env = { CLICKSTREAM_INGEST: 'kafka', CLICKSTREAM_BOOTSTRAP_SERVERS: bootstrapServers(config), CLICKSTREAM_TOPIC: topic, CLICKSTREAM_KAFKA_TLS: 'false', CLICKSTREAM_KAFKA_AUTH: 'none' };
    const now = Date.now();
    const message = (id: string, event: string, properties: Record<string, unknown>) => ({
      type: 'track', event, properties, messageId: id, anonymousId: 'anon-bundle', timestamp: new Date(now - 1_000).toISOString(), context: { page: { url: 'https://shop.test/p', referrer: '' } },
    });
    const body = JSON.stringify({ batch: [message('00000000-0000-4000-8000-00000000000a', 'Product Viewed', { product_id: 'p-1', price: 3 }), message('00000000-0000-4000-8000-00000000000b', 'Order Completed', { order_id: 'o-1', products: [{ product_id: 'p-1', price: 3, quantity: 2 }] })] });
    const event = {
      rawPath: '/collect/v1/b', rawQueryString: '', isBase64Encoded: true, body: Buffer.from(body).toString('base64'),
      headers: { 'content-type': 'text/plain', origin: 'https://shop.test', 'user-agent': 'Mozilla/5.0', 'x-forwarded-for': '203.0.113.9, 10.0.0.1' },
      requestContext: { http: { method: 'POST', sourceIp: '10.0.0.1' }, timeEpoch: now },
    };
    const { result, error } = await invoke(assets.collector, event, env);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ statusCode: 200, body: JSON.stringify({ accepted: 2, quarantined: 0, ignored: 0 }), headers: { 'access-control-allow-origin': 'https://shop.test' } });
    const records = (await consumeWithJavaClient(config, topic, 3)).filter((r) => r.value.includes('anon-bundle'));
    expect(records.map((r) => (JSON.parse(r.value) as { event_type: string }).event_type).sort()).toEqual(['product_view', 'purchase']);
    for (const r of records) expect(r.key).toBe((JSON.parse(r.value) as { session_id: string }).session_id);

    const pixel = await invoke(assets.collector, { ...event, rawPath: '/collect/i', rawQueryString: 'e=pv&eid=00000000-0000-4000-8000-00000000000c&url=https%3A%2F%2Fshop.test%2F&duid=d1&sid=s1', body: undefined, requestContext: { ...event.requestContext, http: { method: 'GET', sourceIp: '10.0.0.1' } } }, env);
    expect(pixel.result).toMatchObject({ statusCode: 200, isBase64Encoded: true, headers: { 'content-type': 'image/gif' } });
  });

  it('collector: a missing setting is one clear error at import', async () => {
    const { error } = await invoke(assets.collector, {}, { CLICKSTREAM_INGEST: 'kinesis' });
    expect(error).toMatch(/CLICKSTREAM_STREAM_NAME is not set: the collector needs it/);
  });

  it('simulator: the Kinesis path loads its own chunk and sends (to an endpoint that refuses, so the error is the connection)', async () => {
    const env = {
      CLICKSTREAM_INGEST: 'kinesis',
      CLICKSTREAM_STREAM_NAME: 'clickstream-events',
      CLICKSTREAM_EVENTS_PER_MINUTE: '10',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:1',
      AWS_MAX_ATTEMPTS: '1',
    };
    const { error } = await invoke(assets.simulator, { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-12-03T06:01:00Z' }, env);
    expect(error).toMatch(/ECONNREFUSED/);
  });

  it('simulator: a missing setting is one clear error at import, not a crash later', async () => {
    const { error } = await invoke(assets.simulator, {}, { CLICKSTREAM_INGEST: 'kinesis', CLICKSTREAM_EVENTS_PER_MINUTE: '10' });
    expect(error).toMatch(/CLICKSTREAM_STREAM_NAME/);
  });

  it('consumer: writes a Kinesis batch as Parquet and quarantines its bad record', async () => {
    const event = JSON.parse(readFileSync(new URL('../fixtures/kinesis-event.json', import.meta.url), 'utf8')) as { Records: { eventSourceARN: string }[] };
    // A stream of its own, so the keys this test looks for are written by this invocation alone.
    const stream = `bundle-${Math.random().toString(36).slice(2, 8)}`;
    for (const record of event.Records) record.eventSourceARN = `arn:aws:kinesis:us-east-1:123456789012:stream/${stream}`;
    const { result, error } = await invoke(assets.consumer, event, handlerEnv(config));
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ records: 3, valid: 2, quarantined: 1 });
    const keys = async (prefix: string) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(`/${stream}-`));
    // The recorded events are from 2026-11-23 20:00, long closed: their rows go to one late file.
    expect((await keys('late/')).filter((k) => k.endsWith('.parquet'))).toHaveLength(1);
    expect(await keys('events/year=2026/month=11/day=23/hour=20/')).toEqual([]);
    expect((await keys('quarantine/')).filter((k) => k.endsWith('.jsonl'))).toHaveLength(1);
  });

  it('compactor: compacts a settled hour of a lake of its own in two worker threads and commits the manifest', async () => {
    // A bucket of its own: the compactor acts on a whole bucket, and the shared one belongs to every test.
    const bucket = `bundle-compactor-${Math.random().toString(36).slice(2, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = localObjectStore(config, bucket);
    try {
      const sim = new ShopperSimulator({ seed: 9, startTimeMs: Date.UTC(2026, 10, 23, 20), eventsPerSecond: 1, dailyCurve: false, warmStart: true });
      const records = Array.from({ length: 300 }, (_, i) => ({ topic: 't', partition: 0, offset: String(i), value: sim.nextRecord().value }));
      await consumeRecords(store, records, Date.UTC(2026, 10, 23, 20, 6), encodeParquet);
      // Two worker threads: the bundle's own index.mjs started again as each (slice-workers.ts).
      const env = { ...handlerEnv({ ...config, bucket }), CLICKSTREAM_COMPACTION_WORKERS: '2' };
      const { result, error } = await invoke(assets.compactor, { 'detail-type': 'Scheduled Event', source: 'aws.events' }, env);
      expect(error).toBeUndefined();
      expect(result).toMatchObject({ hoursCompacted: 1, filesWritten: 1, threads: 2, lostRace: false });
      const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
      expect(Object.keys(manifest.hours)).toEqual(['year=2026/month=11/day=23/hour=20']);
      // The hour's rollups, written by the bundle beside its files and named in the same entry.
      const rollups = Object.values(manifest.hours)[0]!.rollups!;
      expect(Object.keys(rollups).sort()).toEqual(['activity', 'product_minutes', 'products', 'sessions']);
      for (const key of Object.values(rollups)) expect((await store.get(key))?.body.byteLength, key).toBeGreaterThan(100);
    } finally {
      const keys = (await store.list('')).map((o) => o.key);
      if (keys.length > 0) await store.delete(keys);
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
  });

  it("fold: the compactor bundle's fold, as the stack calls it, folds the open hour of a lake of its own into parts, and the fourth merges them", async () => {
    const bucket = `bundle-fold-${Math.random().toString(36).slice(2, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = localObjectStore(config, bucket);
    try {
      // A minute of events of the hour now, whatever the minute (the fold reads the clock).
      const now = Date.now();
      const sim = new ShopperSimulator({ seed: 10, startTimeMs: Math.max(now - 60_000, Math.floor(now / 3_600_000) * 3_600_000), eventsPerSecond: 5, dailyCurve: false, warmStart: true });
      const events = Array.from({ length: 300 }, () => sim.nextRecord()).filter((r) => r.event && hourPartition(r.event.event_time) === hourPartition(now));
      expect(assets.folder).toBe(assets.compactor);
      // Four batches, each folded by a process of its own (a cold function: it reads the parts' ids back).
      const quarter = Math.ceil(events.length / 4);
      for (let b = 0; b < 4; b++) {
        const batch = events.slice(b * quarter, (b + 1) * quarter);
        await consumeRecords(store, batch.map((r, i) => ({ topic: 't', partition: 0, offset: String(b * quarter + i), value: r.value })), now, encodeParquet);
        const { result, error } = await invoke(assets.folder, { 'detail-type': 'Scheduled Event', source: 'aws.events' }, handlerEnv({ ...config, bucket }), 'fold');
        expect(error).toBeUndefined();
        expect(result).toMatchObject({ hoursFolded: 1, filesFolded: 1, eventsFolded: new Set(batch.map((r) => r.event!.event_id)).size, partsMerged: b === 3 ? 3 : 0, lostRace: false });
      }
      const record = parseOpenHourRecord(openHourKey(hourPartition(now)), (await store.get(openHourKey(hourPartition(now))))?.body);
      expect(record.parts.map((p) => [p.rows, p.folds])).toEqual([[new Set(events.map((r) => r.event!.event_id)).size, 4]]);
      expect(record.folded).toEqual({ 't/0': String(events.length - 1) });
    } finally {
      const keys = (await store.list('')).map((o) => o.key);
      if (keys.length > 0) await store.delete(keys);
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
  });

  it('compactor: without its bucket it says so at import', async () => {
    const { error } = await invoke(assets.compactor, {}, {});
    expect(error).toMatch(/CLICKSTREAM_LAKE_BUCKET is not set: the compactor needs the lake bucket name/);
  });

  it('query API: answers a bad request with a 400 and its reason, and an unknown path with a 404', async () => {
    const env = { CLICKSTREAM_GLUE_DATABASE: 'clickstream', CLICKSTREAM_ATHENA_WORKGROUP: 'clickstream_dashboard', CLICKSTREAM_LAKE_BUCKET: 'lake', AWS_REGION: 'us-east-1' };
    const bad = await invoke(assets.queryApi, { rawPath: '/api/query/kpis', queryStringParameters: { device: 'watch' } }, env);
    expect(bad.error).toBeUndefined();
    expect(bad.result).toMatchObject({ statusCode: 400 });
    expect(JSON.parse((bad.result as { body: string }).body)).toEqual({ error: 'device must be one of desktop, mobile, tablet, bot, got "watch"' });
    const unknown = await invoke(assets.queryApi, { rawPath: '/etc/passwd' }, env);
    expect(unknown.result).toMatchObject({ statusCode: 404 });
  });

  it('query API: without its settings it says which are missing', async () => {
    const { error } = await invoke(assets.queryApi, {}, {});
    expect(error).toMatch(/CLICKSTREAM_GLUE_DATABASE, CLICKSTREAM_ATHENA_WORKGROUP and CLICKSTREAM_LAKE_BUCKET must be set/);
  });
});
