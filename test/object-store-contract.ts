/**
 * What every S3 the adapter talks to must do for it (S3ObjectStore, lambdas/consumer/object-store.ts):
 * conditional PUT both ways with 412 as PreconditionFailedError, a missing key read as
 * undefined, listings over several pages, deletes of missing keys, keys with characters
 * to encode. Run against the real MinIO (test/integration/object-store.test.ts) and the
 * real LocalStack (test/cloud/object-store.test.ts), each on a bucket of its own, which the
 * contract makes before the file's tests and empties and removes after them.
 */
import { CreateBucketCommand, DeleteBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Error, type S3Settings } from '../lambdas/common/s3-transport.ts';
import { PreconditionFailedError, S3ObjectStore } from '../lambdas/consumer/object-store.ts';

export interface ContractTarget {
  readonly name: string;
  readonly settings: S3Settings;
  /** A bucket name of the suite's own; the contract creates it. */
  readonly bucket: string;
  /** The SDK's client for the same S3, which shares no code with the adapter: it makes and removes the bucket. */
  readonly s3: S3Client;
}

export function objectStoreContract(target: () => ContractTarget): void {
  const store = (pageSize?: number) => new S3ObjectStore(target().settings, target().bucket, pageSize);

  beforeAll(async () => {
    await target().s3.send(new CreateBucketCommand({ Bucket: target().bucket }));
  });
  afterAll(async () => {
    const s = store();
    await s.delete((await s.list('')).map((o) => o.key));
    s.destroy();
    await target().s3.send(new DeleteBucketCommand({ Bucket: target().bucket }));
  });

  describe(`S3ObjectStore on ${target().name}`, () => {
    it('puts only if there is no object yet (If-None-Match), then only over the ETag it read (If-Match); 412 is PreconditionFailedError', async () => {
      const s = store();
      const first = await s.put('log/p0.json', Buffer.from('{"v":1}'), 'application/json', { ifNoneMatch: '*' });
      expect(first).toMatch(/^".+"$/);
      await expect(s.put('log/p0.json', Buffer.from('{"v":2}'), 'application/json', { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError);
      const read = await s.get('log/p0.json');
      expect(read).toEqual({ body: Buffer.from('{"v":1}'), etag: first });
      const second = await s.put('log/p0.json', Buffer.from('{"v":3}'), 'application/json', { ifMatch: read!.etag });
      expect(second).not.toBe(first);
      // A writer that read the first version has lost the race.
      await expect(s.put('log/p0.json', Buffer.from('{"v":4}'), 'application/json', { ifMatch: first })).rejects.toThrow(PreconditionFailedError);
      expect((await s.get('log/p0.json'))?.body.toString()).toBe('{"v":3}');
      // Without a condition the last writer wins.
      await s.put('log/p0.json', Buffer.from('{"v":5}'), 'application/json');
      expect((await s.get('log/p0.json'))?.body.toString()).toBe('{"v":5}');
    });

    it('reads a missing key as undefined, but a missing bucket as an error that says so', async () => {
      expect(await store().get('no/such/key.parquet')).toBeUndefined();
      const nowhere = new S3ObjectStore(target().settings, `${target().bucket}-missing`);
      await expect(nowhere.get('k')).rejects.toThrow(/NoSuchBucket \(HTTP 404\)/);
    });

    it('lists every object under a prefix over several pages, with sizes, ETags and times', async () => {
      const s = store(7);
      const started = Date.now() - 60_000;
      const keys = Array.from({ length: 20 }, (_, i) => `pages/hour=${String(i).padStart(2, '0')}/f.parquet`);
      const etags = await Promise.all(keys.map((k, i) => s.put(k, Buffer.alloc(i + 1, 1), 'application/vnd.apache.parquet')));
      await s.put('pagesnot/other', Buffer.from('x'), 'text/plain');
      const listed = await s.list('pages/');
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(listed.map((o) => o.size)).toEqual(keys.map((_, i) => i + 1));
      expect(listed.map((o) => o.etag)).toEqual(etags);
      for (const o of listed) expect(o.lastModifiedMs).toBeGreaterThan(started);
      expect(await s.list('nothing-here/')).toEqual([]);
    });

    it('round-trips keys with characters to encode', async () => {
      const s = store();
      const keys = ['odd/a b+c=d&e.json', 'odd/ü/ñ (1).json', "odd/x~y!z*'.json"];
      for (const k of keys) await s.put(k, Buffer.from(k), 'application/json');
      for (const k of keys) expect((await s.get(k))?.body.toString()).toBe(k);
      expect((await s.list('odd/')).map((o) => o.key).sort()).toEqual([...keys].sort());
      await s.delete(keys);
      expect(await s.list('odd/')).toEqual([]);
    });

    it('deletes what is there and ignores what is not', async () => {
      const s = store();
      await s.put('gone/a', Buffer.from('a'), 'text/plain');
      await s.delete(['gone/a', 'gone/never-written', 'gone/also-missing']);
      expect(await s.list('gone/')).toEqual([]);
      await s.delete([]);
    });
  });
}

/** The error for a request with a wrong secret: one S3Error naming the code and what to check. */
export async function expectBadCredentialsError(settings: S3Settings, bucket: string): Promise<void> {
  const store = new S3ObjectStore({ ...settings, credentials: { accessKeyId: settings.credentials!.accessKeyId, secretAccessKey: 'not-the-secret' } }, bucket);
  const started = Date.now();
  const failed = store.get('any/key');
  await expect(failed).rejects.toBeInstanceOf(S3Error);
  await expect(failed).rejects.toThrow(/SignatureDoesNotMatch \(HTTP 403\).*check the credentials/);
  // Not retried: a wrong key does not get better.
  expect(Date.now() - started).toBeLessThan(5_000);
}
