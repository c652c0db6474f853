/**
 * The lake mirror against the real MinIO: a restarted mirror over the same directory fetches
 * only what changed while it was away, removes what went, and hands on exactly those keys;
 * a restarted dashboard server fetches nothing else and answers as a fresh one does.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClickstreamEvent } from '../../lambdas/common/event-schema.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { LakeMirror } from '../../local/lake/lake-mirror.ts';
import { QueryServer } from '../../local/serve/query-server.ts';
import { localS3Client } from '../../local/services/minio.ts';
import { answerDifferences } from './helpers.ts';

const config = inject('config');
const s3 = localS3Client(config);
const bucket = `clickstream-mirror-${randomBytes(4).toString('hex')}`;
const keys = Array.from({ length: 20 }, (_, i) => `events/year=2026/month=12/day=03/hour=10/f${i}.parquet`);
let dir: string;

const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of keys) await put(key, `first ${key}`);
  dir = mkdtempSync(join(tmpdir(), 'clickstream-mirror-'));
});

afterAll(async () => {
  for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('LakeMirror across restarts', () => {
  it('fetches everything once, then after a restart only what changed, and removes what was deleted', async () => {
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ objects: 20, fetched: 20, removed: 0 });

    // While no mirror runs: one object replaced, one deleted.
    await put(keys[3]!, 'second');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[4]! }));
    const restarted = new LakeMirror(s3, bucket, dir);
    expect(restarted.keys()).toHaveLength(20);
    expect(await restarted.sync()).toMatchObject({ objects: 19, fetched: 1, removed: 1, changes: { added: [], changed: [keys[3]], removed: [keys[4]] } });
    expect(existsSync(join(dir, keys[4]!))).toBe(false);
    expect(await restarted.sync()).toMatchObject({ fetched: 0, removed: 0, changes: { added: [], changed: [], removed: [] } });

    await put(keys[4]!, 'back');
    expect((await restarted.sync()).changes).toEqual({ added: [keys[4]], changed: [], removed: [] });
  });

  it('fetches again a file whose local copy went missing, and trusts no index of another bucket', async () => {
    rmSync(join(dir, keys[5]!));
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ fetched: 1 });
    writeFileSync(join(dir, '.mirror-index.json'), JSON.stringify({ bucket: 'another-bucket', etags: {} }));
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ fetched: 20 });
    writeFileSync(join(dir, '.mirror-index.json'), 'not json');
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ fetched: 20 });
  });
});

describe('LakeMirror changes', () => {
  it('hands on what a failed sync did at the next sync, once', async () => {
    const mirrorDir = mkdtempSync(join(tmpdir(), 'clickstream-mirror-fail-'));
    const client = localS3Client(config);
    // The store fails one fetch, after the others of the same sync have landed.
    let failing: string | undefined;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand' && (args.input as { Key: string }).Key === failing) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          throw new Error('the store went away');
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const mirror = new LakeMirror(client, bucket, mirrorDir);
      expect((await mirror.sync()).changes.added).toHaveLength(20);
      for (const i of [1, 2, 7]) await put(keys[i]!, `third ${i}`);
      failing = keys[7];
      await expect(mirror.sync()).rejects.toThrow(/the store went away/);
      failing = undefined;
      expect((await mirror.sync()).changes).toEqual({ added: [], changed: [keys[1], keys[2], keys[7]].sort(), removed: [] });
      expect((await mirror.sync()).changes).toEqual({ added: [], changed: [], removed: [] });
    } finally {
      client.destroy();
      rmSync(mirrorDir, { recursive: true, force: true });
    }
  });
});

/** A port free on 127.0.0.1 now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The keys of every object this client has fetched, in the order asked. */
function countGets(client: S3Client): string[] {
  const gets: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetObjectCommand') gets.push((args.input as { Key: string }).Key);
      return next(args);
    },
    { step: 'initialize' },
  );
  return gets;
}

describe('the dashboard server across restarts', () => {
  const serverBucket = `clickstream-restart-${randomBytes(4).toString('hex')}`;
  const START = Date.UTC(2026, 10, 23, 10);
  const HOUR = 'events/year=2026/month=11/day=23/hour=10';
  const sim = new ShopperSimulator({ seed: 12, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: false });
  const events: ClickstreamEvent[] = Array.from({ length: 300 }, () => sim.nextRecord().event!);
  const fileKeys = Array.from({ length: 10 }, (_, i) => `${HOUR}/f${i}.parquet`);
  const dirs: string[] = [];
  const newDir = () => {
    dirs.push(mkdtempSync(join(tmpdir(), 'clickstream-restart-')));
    return dirs.at(-1)!;
  };
  const putParquet = async (key: string, rows: readonly ClickstreamEvent[]) => {
    const lakeRows = rows.map((e, i) => ({ ...e, source_topic: 't', source_partition: 0, source_offset: String(i), ingest_time: START + 60_000 }));
    await s3.send(new PutObjectCommand({ Bucket: serverBucket, Key: key, Body: await encodeParquet(lakeRows) }));
  };

  /** Starts a server over this copy, takes its KPIs for the hour, stops it; and says what it fetched. */
  async function serveOnce(mirrorDirectory: string): Promise<{ fetched: string[]; kpis: unknown }> {
    const client = localS3Client(config);
    const fetched = countGets(client);
    const port = await freePort();
    const server = await QueryServer.start({ port, s3: client, bucket: serverBucket, mirrorDirectory, siteDirectory: newDir() });
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/query/kpis?from=2026-11-23T10:00Z&to=2026-11-23T11:00Z`);
      expect(response.status).toBe(200);
      const { generatedAt: _, ...kpis } = (await response.json()) as Record<string, unknown>;
      return { fetched: fetched.sort(), kpis };
    } finally {
      await server.stop();
      client.destroy();
    }
  }

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: serverBucket }));
    // Ten files of 40 events, each sharing 10 with the next, as re-sent batches leave them.
    for (const [i, key] of fileKeys.entries()) await putParquet(key, events.slice(i * 30, i * 30 + 40));
  });

  afterAll(async () => {
    for (const key of [...fileKeys, `${HOUR}/new.parquet`]) await s3.send(new DeleteObjectCommand({ Bucket: serverBucket, Key: key }));
    await s3.send(new DeleteBucketCommand({ Bucket: serverBucket }));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('fetches on restart only what changed, and answers as a server that loaded everything afresh', async () => {
    const dir = newDir();
    const first = await serveOnce(dir);
    expect(first.fetched).toEqual([...fileKeys].sort());
    const again = await serveOnce(dir);
    expect(again.fetched).toEqual([]);
    // Sums of doubles may differ in the last bits: rows are added in another order.
    expect(answerDifferences(again.kpis, first.kpis, 'kpis')).toEqual([]);

    // While no server runs: one file replaced by a smaller one, one deleted, one added.
    await putParquet(fileKeys[3]!, events.slice(90, 100));
    await s3.send(new DeleteObjectCommand({ Bucket: serverBucket, Key: fileKeys[4]! }));
    await putParquet(`${HOUR}/new.parquet`, events.slice(280, 300));
    const restarted = await serveOnce(dir);
    expect(restarted.fetched).toEqual([fileKeys[3]!, `${HOUR}/new.parquet`].sort());
    expect(answerDifferences(restarted.kpis, first.kpis, 'kpis')).not.toEqual([]);
    expect(answerDifferences(restarted.kpis, (await serveOnce(newDir())).kpis, 'kpis')).toEqual([]);
  });
});
