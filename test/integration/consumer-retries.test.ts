import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import type { KafkaEvent } from '../../lambdas/consumer/kafka-event.ts';
import { PreconditionFailedError, type ObjectStore, type PutCondition } from '../../lambdas/consumer/object-store.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { bundleLambda } from '../../local/common/bundle.ts';
import { handlerEnv } from '../../local/consume/consumer-service.ts';
import { localObjectStore, localS3Client } from '../../local/services/minio.ts';
import { openLake } from './helpers.ts';

const config = inject('config');
const s3 = localS3Client(config);
const store = localObjectStore(config);

/** The real MinIO store, made to fail after a number of writes: a batch dying half-way. */
class StoreThatDies implements ObjectStore {
  private puts = 0;
  constructor(private readonly failAfterPuts: number) {}
  get = (key: string) => store.get(key);
  delete = (keys: readonly string[]) => store.delete(keys);
  list = (prefix: string) => store.list(prefix);
  async put(key: string, body: Buffer, contentType: string, condition?: PutCondition): Promise<string> {
    if (++this.puts > this.failAfterPuts) throw new Error('storage went away');
    return store.put(key, body, contentType, condition);
  }
}

/**
 * 24 events a minute from 10:10 UTC: offsets 0 to about 1,200 fall in the 10:00
 * hour, the rest in later hours, so a batch writes several files.
 */
function stream(topic: string, count: number): SourceRecord[] {
  const sim = new ShopperSimulator({ seed: 77, startTimeMs: Date.UTC(2026, 10, 23, 10, 10), eventsPerSecond: 0.4, dailyCurve: false, warmStart: true });
  return Array.from({ length: count }, (_, i) => ({ topic, partition: 0, offset: String(i), value: sim.nextRecord().value }));
}

/** Every key under the prefix, all pages (the shared bucket holds every test's late files). */
async function keysUnder(prefix: string, from: ObjectStore = store): Promise<string[]> {
  return (await from.list(prefix)).map((o) => o.key);
}

afterAll(() => s3.destroy());

describe('retries and re-deliveries never leave a row twice', () => {
  it.each([
    ['a batch dies half-way and is re-delivered in two smaller batches', 2, [[0, 999], [1000, 2999]]],
    ['a batch succeeds but its commit is lost, and it is re-delivered in other boundaries', Infinity, [[0, 1499], [1500, 2999]]],
    ['a batch dies before writing anything and is re-delivered whole', 0, [[0, 2999]]],
  ])('%s', async (_name, failAfterPuts, redeliveries) => {
    const topic = `retry.${Math.random().toString(36).slice(2, 8)}`;
    const records = stream(topic, 3_000);
    // 12:05: the 10:00 hour has closed (its rows go to a late file), 11:00 and 12:00 are open, so a batch writes both kinds.
    const ingest = Date.UTC(2026, 10, 23, 12, 5);

    const first = consumeRecords(new StoreThatDies(failAfterPuts), records.slice(0, 2_000), ingest, encodeParquet);
    if (failAfterPuts === Infinity) await first;
    else await expect(first).rejects.toThrow('storage went away');

    for (const [from, to] of redeliveries as [number, number][]) {
      await consumeRecords(store, records.slice(from, to + 1), ingest + 1, encodeParquet);
    }

    const lake = await openLake(config);
    try {
      const rows = await lake.query(`SELECT event_id, count(*)::INTEGER AS n FROM events WHERE source_topic = '${topic}' GROUP BY event_id`);
      expect(rows.length).toBe(3_000);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const hours = await lake.query(`SELECT count(DISTINCT hour)::INTEGER AS n FROM events WHERE source_topic = '${topic}'`);
      expect(hours[0]!.n).toBeGreaterThan(1);
    } finally {
      lake.close();
    }
  });
});

describe('two writers of one partition (a rebalance, a zombie invocation)', () => {
  it('lets only one change the write log; the other fails, is retried, and no row lands twice', async () => {
    const topic = `race.${Math.random().toString(36).slice(2, 8)}`;
    const records = stream(topic, 2_000);
    // The zombie reads the log, then the new owner writes a whole batch, then the zombie writes.
    const zombieStore: ObjectStore = {
      get: (key) => store.get(key),
      delete: (keys) => store.delete(keys),
      list: (prefix) => store.list(prefix),
      put: async (key, body, contentType, condition) => {
        if (key.startsWith('_consumer_state/')) await consumeRecords(store, records.slice(0, 1_500), Date.now(), encodeParquet);
        return store.put(key, body, contentType, condition);
      },
    };
    await expect(consumeRecords(zombieStore, records.slice(0, 1_000), Date.now(), encodeParquet)).rejects.toBeInstanceOf(PreconditionFailedError);
    await consumeRecords(store, records.slice(1_500), Date.now(), encodeParquet);

    const lake = await openLake(config);
    try {
      const rows = await lake.query(`SELECT event_id, count(*)::INTEGER AS n FROM events WHERE source_topic = '${topic}' GROUP BY event_id`);
      expect(rows.length).toBe(2_000);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    } finally {
      lake.close();
    }
  });
});

describe('the bundled handler on recorded event shapes', () => {
  // A bucket of its own: the recorded events name the shared topic (clickstream.events) and
  // offsets the shared pipeline also writes, and msk-event.json holds a tombstone at partition 3,
  // offset 9. In the shared lake they stood beside that topic's real records at the same
  // coordinates, as a no_value quarantine line and rows no producer sent.
  const bucket = `bundle-shapes-${Math.random().toString(36).slice(2, 8)}`;
  const shapes = localObjectStore(config, bucket);
  let handler: (event: unknown) => Promise<{ records: number; valid: number; quarantined: number }>;
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    Object.assign(process.env, handlerEnv({ ...config, bucket }));
    ({ handler } = (await import(pathToFileURL(await bundleLambda('consumer')).href)) as { handler: typeof handler });
  });
  afterAll(async () => {
    await shapes.delete(await keysUnder('', shapes));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });

  const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as KafkaEvent;

  it.each([
    ['msk-event.json', { records: 6, valid: 4, quarantined: 2 }, ['clickstream.events-p0-o100-101', 'clickstream.events-p3-o7-8']],
    ['self-managed-kafka-event.json', { records: 2, valid: 1, quarantined: 0 }, ['clickstream.events-p1-o0-0']],
    ['kinesis-event.json', { records: 3, valid: 2, quarantined: 1 }, ['clickstream-events-p2-o49590338271490256608559692538361571095921575989136588898-']],
  ])('writes %s to the lake', async (name, counts, files) => {
    const result = await handler(fixture(name));
    expect(result).toMatchObject(counts);
    // The recorded events are from 2026-11-23 20:00, long closed: they land in late files.
    const keys = await keysUnder('late/', shapes);
    for (const file of files) expect(keys.some((k) => k.includes(`/${file}`)), file).toBe(true);
  });

  it('fails the batch (so it is retried) when the event is not one it knows', async () => {
    await expect(handler({ Records: [{ eventSource: 'aws:sqs' }] })).rejects.toThrow(/unsupported event/);
  });
});
