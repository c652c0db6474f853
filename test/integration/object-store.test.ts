/**
 * The project's S3 adapter against the real MinIO, on a bucket of its own: the shared
 * contract (test/object-store-contract.ts), a wrong secret, and deletes and listings past
 * S3's 1,000 keys a call.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { S3Settings } from '../../lambdas/common/s3-transport.ts';
import { S3ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { localS3Client, minioCredentials, s3Endpoint } from '../../local/services/minio.ts';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { expectBadCredentialsError, objectStoreContract } from '../object-store-contract.ts';

const config = inject('config');
const s3 = localS3Client(config);
const bucket = `object-store-${Math.random().toString(36).slice(2, 8)}`;
const settings: S3Settings = { endpoint: s3Endpoint(config), region: 'us-east-1', forcePathStyle: true, credentials: minioCredentials(config) };

// Registered first, so it runs after the contract has removed the bucket with it.
afterAll(() => s3.destroy());

objectStoreContract(() => ({ name: 'MinIO', settings, bucket, s3 }));

describe('S3ObjectStore on MinIO', () => {
  it('a wrong secret is one clear error, not retried', async () => {
    await expectBadCredentialsError(settings, bucket);
  });

  it('lists and deletes more than S3 takes in one call (1,000 keys)', async () => {
    const store = new S3ObjectStore(settings, bucket);
    const keys = Array.from({ length: 1_005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    await mapWithLimit(keys, 16, (k) => store.put(k, Buffer.from(k), 'text/plain'));
    expect((await store.list('many/')).map((o) => o.key)).toEqual(keys);
    await store.delete(keys);
    expect(await store.list('many/')).toEqual([]);
    store.destroy();
  });
});
