/**
 * `up` with a broker and an S3 store given by the environment (as with the
 * docker-compose services): here the shared test Kafka and MinIO play them. It
 * must start only the consumer and the dashboard, land events in the given
 * store, and leave the given services running when it stops.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { configEnv, loadConfig } from '../../local/common/config.ts';
import { waitForCaughtUp } from '../../local/consume/consumer-lag.ts';
import { LakeInventoryReader } from '../../local/lake/lake-inventory.ts';
import { produce } from '../../local/produce/produce.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { localS3Client, minioCredentials, s3Endpoint } from '../../local/services/minio.ts';
import { down, status, up } from '../../local/services/stack.ts';
import { createTestTopic } from './helpers.ts';

const shared = inject('config');
const credentials = minioCredentials(shared);
const stateDir = mkdtempSync(join(tmpdir(), 'clickstream-external-'));
const quiet = () => undefined;

function externalConfig(overrides: Record<string, string>) {
  return loadConfig({
    ...configEnv(shared),
    CLICKSTREAM_STATE_DIR: stateDir,
    CLICKSTREAM_DASHBOARD_PORT: process.env.CLICKSTREAM_TEST_EXTERNAL_DASHBOARD_PORT ?? '28081',
    CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS: bootstrapServers(shared),
    CLICKSTREAM_S3_ENDPOINT: s3Endpoint(shared),
    CLICKSTREAM_S3_ACCESS_KEY_ID: credentials.accessKeyId,
    CLICKSTREAM_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...overrides,
  });
}

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('services given by the environment', () => {
  it('are used, not started or stopped: events land in the given store exactly once', async () => {
    const topic = await createTestTopic(shared, 3);
    const id = randomBytes(4).toString('hex');
    // A pipeline of its own on the shared broker: its own topic, bucket and consumer group.
    const config = externalConfig({ CLICKSTREAM_TOPIC: topic.topic, CLICKSTREAM_PARTITIONS: '3', CLICKSTREAM_BUCKET: `external-${id}`, CLICKSTREAM_CONSUMER_GROUP: `external-${id}` });
    const s3 = localS3Client(config);
    try {
      const { started } = await up(config, quiet);
      expect(started).toEqual(['consumer', 'dashboard', 'supervisor']);
      const services = await status(config);
      expect(services.map((s) => [s.name, s.healthy, s.external ?? false])).toEqual([
        ['kafka', true, true],
        ['minio', true, true],
        ['consumer', true, false],
        ['dashboard', true, false],
        ['supervisor', true, false],
      ]);

      const summary = await produce({ bootstrapServers: [bootstrapServers(config)], topic: config.topic, rate: 'max', count: 3_000, seed: 77 });
      expect(summary.sent).toBe(3_000);
      expect(await waitForCaughtUp(config, 60_000)).toBe(true);
      expect((await new LakeInventoryReader(s3, config.bucket).read()).eventRows).toBe(3_000);

      expect(await down(config)).toEqual(['supervisor', 'dashboard', 'consumer']);
      const after = await status(shared);
      expect(after.filter((s) => s.name === 'kafka' || s.name === 'minio').every((s) => s.healthy)).toBe(true);
    } finally {
      await down(config);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: config.bucket }));
      const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: config.bucket, Delete: { Objects: keys } }));
      await s3.send(new DeleteBucketCommand({ Bucket: config.bucket }));
      s3.destroy();
      await topic.remove();
    }
  });

  it('says which given service does not answer, or which setting does not fit it, and starts nothing', async () => {
    const noBroker = externalConfig({ CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1' });
    await expect(up(noBroker, quiet)).rejects.toThrow(
      'no Kafka answers on 127.0.0.1:1 (CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS): start it, or unset the variable to let clickstream start its own broker',
    );
    const wrongSecret = externalConfig({ CLICKSTREAM_S3_SECRET_ACCESS_KEY: 'not-the-secret' });
    await expect(up(wrongSecret, quiet)).rejects.toThrow(/^the S3 store at http:\/\/127\.0\.0\.1:\d+ \(CLICKSTREAM_S3_ENDPOINT\) cannot be used: the credentials were refused/);
    expect((await status(wrongSecret)).filter((s) => s.name === 'consumer' || s.name === 'dashboard').some((s) => s.running)).toBe(false);
    // The shared topic has the shared config's partitions; a pipeline that expects another count is told.
    const otherCount = externalConfig({ CLICKSTREAM_PARTITIONS: String(shared.partitions + 2) });
    await expect(up(otherCount, quiet)).rejects.toThrow(
      `topic ${shared.topic} has ${shared.partitions} partitions, but CLICKSTREAM_PARTITIONS is ${shared.partitions + 2}: set CLICKSTREAM_PARTITIONS=${shared.partitions}`,
    );
    expect((await status(otherCount)).some((s) => (s.name === 'consumer' || s.name === 'dashboard') && s.running)).toBe(false);
  });
});
