/**
 * The project's S3 adapter against the real LocalStack, on a bucket of its own, with
 * the settings a deployed function builds from its environment there (LocalStack's
 * AWS_ENDPOINT_URL, an IP address, so path-style without being told). LocalStack takes
 * any credentials, so the wrong-secret case is tested on MinIO only.
 */
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { s3SettingsFromEnv } from '../../lambdas/common/s3-transport.ts';
import { S3ObjectStore } from '../../lambdas/consumer/object-store.ts';
import { objectStoreContract } from '../object-store-contract.ts';
import { cloud, s3 } from './aws.ts';

const bucket = `object-store-${Math.random().toString(36).slice(2, 8)}`;
const settings = { ...s3SettingsFromEnv({ AWS_REGION: cloud.region, AWS_ENDPOINT_URL: cloud.endpoint }), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  const store = new S3ObjectStore(settings, bucket);
  await store.delete((await store.list('')).map((o) => o.key));
  store.destroy();
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
});

objectStoreContract(() => ({ name: 'LocalStack', settings, bucket }));
