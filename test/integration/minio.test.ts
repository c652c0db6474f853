import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { localS3Client, s3Endpoint } from '../../local/services/minio.ts';

const config = inject('config');

describe('MinIO through the AWS SDK', () => {
  const s3 = localS3Client(config);
  const key = `integration/${Date.now()}/hello.json`;

  afterAll(async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: config.bucket, Key: key }));
    s3.destroy();
  });

  it('puts, lists and gets an object in the lake bucket', async () => {
    const body = JSON.stringify({ hello: 'lake' });
    await s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: config.bucket, Prefix: key }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
    const got = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
    expect(await got.Body?.transformToString()).toBe(body);
  });

  it('refuses anonymous reads: the bucket is private', async () => {
    const response = await fetch(`${s3Endpoint(config)}/${config.bucket}/${key}`);
    expect(response.status).toBe(403);
  });

  it('refuses wrong credentials, such as the well-known MinIO defaults', async () => {
    const intruder = new S3Client({
      endpoint: s3Endpoint(config),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' },
    });
    await expect(intruder.send(new ListObjectsV2Command({ Bucket: config.bucket }))).rejects.toThrow(/Access Key Id you provided does not exist/);
    intruder.destroy();
  });
});
