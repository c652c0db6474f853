/**
 * The lake mirror against the real MinIO: a restarted mirror over the same directory fetches
 * only what changed while it was away, and removes what went.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LakeMirror } from '../../local/lake/lake-mirror.ts';
import { localS3Client } from '../../local/services/minio.ts';

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
    expect(await restarted.sync()).toMatchObject({ objects: 19, fetched: 1, removed: 1 });
    expect(existsSync(join(dir, keys[4]!))).toBe(false);
    expect(await restarted.sync()).toMatchObject({ fetched: 0, removed: 0 });
  });

  it('fetches again a file whose local copy went missing, and trusts no index of another bucket', async () => {
    rmSync(join(dir, keys[5]!));
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ fetched: 1 });
    writeFileSync(join(dir, '.mirror-index.json'), JSON.stringify({ bucket: 'another-bucket', etags: {} }));
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ fetched: 19 });
    writeFileSync(join(dir, '.mirror-index.json'), 'not json');
    expect(await new LakeMirror(s3, bucket, dir).sync()).toMatchObject({ fetched: 19 });
  });
});
