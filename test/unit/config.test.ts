import { describe, expect, it } from 'vitest';
import { configEnv, loadConfig } from '../../local/common/config.ts';
import { UserError } from '../../local/common/errors.ts';

describe('loadConfig', () => {
  it('works with no settings at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ kafkaPort: 19092, minioPort: 19000, topic: 'clickstream.events', partitions: 6, bucket: 'clickstream-lake' });
    expect(config.cacheDir).toMatch(/\/\.cache\/clickstream$/);
  });

  it('reads every CLICKSTREAM_ variable', () => {
    const config = loadConfig({
      CLICKSTREAM_CACHE_DIR: '/c',
      CLICKSTREAM_STATE_DIR: '/s',
      CLICKSTREAM_KAFKA_PORT: '2001',
      CLICKSTREAM_KAFKA_CONTROLLER_PORT: '2002',
      CLICKSTREAM_MINIO_PORT: '2003',
      CLICKSTREAM_DASHBOARD_PORT: '2004',
      CLICKSTREAM_TOPIC: 'shop.events',
      CLICKSTREAM_PARTITIONS: '3',
      CLICKSTREAM_CONSUMER_GROUP: 'shop-consumer',
      CLICKSTREAM_BUCKET: 'my-lake',
      CLICKSTREAM_BATCH_SIZE: '500',
      CLICKSTREAM_BATCHING_WINDOW_SECONDS: '0',
      CLICKSTREAM_MAX_ATTEMPTS: '3',
      CLICKSTREAM_COMPACTION_INTERVAL_SECONDS: '0',
      CLICKSTREAM_LATE_AFTER_SECONDS: '120',
      CLICKSTREAM_WRITE_DEADLINE_SECONDS: '900',
    });
    expect(config).toEqual({
      cacheDir: '/c', stateDir: '/s', kafkaPort: 2001, kafkaControllerPort: 2002, minioPort: 2003, dashboardPort: 2004, topic: 'shop.events', partitions: 3, consumerGroup: 'shop-consumer', bucket: 'my-lake',
      batchSize: 500, batchingWindowSeconds: 0, maxAttempts: 3, compactionIntervalSeconds: 0, lakeTiming: { lateAfterMs: 120_000, writeDeadlineMs: 900_000 },
    });
    // configEnv round-trips: a child process loads the same configuration.
    expect(loadConfig(configEnv(config))).toEqual(config);
  });

  it.each([
    ['CLICKSTREAM_KAFKA_PORT', 'abc', 'CLICKSTREAM_KAFKA_PORT must be a whole number from 1024 to 65535, got "abc"'],
    ['CLICKSTREAM_KAFKA_PORT', '80', 'CLICKSTREAM_KAFKA_PORT must be a whole number from 1024 to 65535, got "80"'],
    ['CLICKSTREAM_DASHBOARD_PORT', 'http', 'CLICKSTREAM_DASHBOARD_PORT must be a whole number from 1024 to 65535, got "http"'],
    ['CLICKSTREAM_MINIO_PORT', '70000', 'CLICKSTREAM_MINIO_PORT must be a whole number from 1024 to 65535, got "70000"'],
    ['CLICKSTREAM_PARTITIONS', '0', 'CLICKSTREAM_PARTITIONS must be a whole number from 1 to 1000, got "0"'],
    ['CLICKSTREAM_PARTITIONS', '2.5', 'CLICKSTREAM_PARTITIONS must be a whole number from 1 to 1000, got "2.5"'],
    ['CLICKSTREAM_CONSUMER_GROUP', 'my group', 'CLICKSTREAM_CONSUMER_GROUP must be letters, digits, dots, dashes and underscores, got "my group"'],
    ['CLICKSTREAM_TOPIC', 'bad topic!', 'CLICKSTREAM_TOPIC must be letters, digits, dots, dashes and underscores, got "bad topic!"'],
    ['CLICKSTREAM_BUCKET', 'Upper_Case', 'CLICKSTREAM_BUCKET must be an S3 bucket name: 3-63 lower-case letters, digits, dots and dashes, got "Upper_Case"'],
    ['CLICKSTREAM_BATCH_SIZE', '20000', 'CLICKSTREAM_BATCH_SIZE must be a whole number from 1 to 10000, got "20000"'],
    ['CLICKSTREAM_BATCHING_WINDOW_SECONDS', '301', 'CLICKSTREAM_BATCHING_WINDOW_SECONDS must be a whole number from 0 to 300, got "301"'],
    ['CLICKSTREAM_MAX_ATTEMPTS', '0', 'CLICKSTREAM_MAX_ATTEMPTS must be a whole number from 1 to 1000, got "0"'],
    ['CLICKSTREAM_COMPACTION_INTERVAL_SECONDS', '5m', 'CLICKSTREAM_COMPACTION_INTERVAL_SECONDS must be a whole number from 0 to 86400, got "5m"'],
    ['CLICKSTREAM_LATE_AFTER_SECONDS', '0', 'CLICKSTREAM_LATE_AFTER_SECONDS must be a whole number of seconds from 1 to 86400, got "0"'],
    ['CLICKSTREAM_WRITE_DEADLINE_SECONDS', 'soon', 'CLICKSTREAM_WRITE_DEADLINE_SECONDS must be a whole number of seconds from 1 to 86400, got "soon"'],
    ['CLICKSTREAM_STATE_DIR', 'relative/dir', 'CLICKSTREAM_STATE_DIR must be an absolute path, got "relative/dir"'],
    ['CLICKSTREAM_CACHE_DIR', '~/cache', 'CLICKSTREAM_CACHE_DIR must be an absolute path, got "~/cache"'],
    [
      'CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS',
      'redpanda',
      'CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS must be one broker address as host:port, for example 127.0.0.1:9092, got "redpanda"',
    ],
    [
      'CLICKSTREAM_S3_ENDPOINT',
      'http://127.0.0.1:9000',
      'CLICKSTREAM_S3_ENDPOINT, CLICKSTREAM_S3_ACCESS_KEY_ID, CLICKSTREAM_S3_SECRET_ACCESS_KEY go together: set all three to use your own S3 store, or none to let clickstream start MinIO',
    ],
  ])('rejects %s=%s with a sentence that says what to set', (key, value, message) => {
    expect(() => loadConfig({ [key]: value })).toThrow(new UserError(message));
  });

  it('uses a broker and an S3 store given by the environment, and passes them on to child processes', () => {
    const config = loadConfig({
      CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:9092',
      CLICKSTREAM_S3_ENDPOINT: 'http://127.0.0.1:9000/',
      CLICKSTREAM_S3_ACCESS_KEY_ID: 'key',
      CLICKSTREAM_S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config.externalKafka).toBe('127.0.0.1:9092');
    expect(config.externalS3).toEqual({ endpoint: 'http://127.0.0.1:9000', accessKeyId: 'key', secretAccessKey: 'secret' });
    expect(loadConfig(configEnv(config))).toEqual(config);
  });

  it('rejects an S3 endpoint that is not a plain http(s) URL', () => {
    expect(() =>
      loadConfig({ CLICKSTREAM_S3_ENDPOINT: '127.0.0.1:9000', CLICKSTREAM_S3_ACCESS_KEY_ID: 'k', CLICKSTREAM_S3_SECRET_ACCESS_KEY: 's' }),
    ).toThrow(new UserError('CLICKSTREAM_S3_ENDPOINT must be an http(s) URL with no path, for example http://127.0.0.1:9000, got "127.0.0.1:9000"'));
  });

  it('rejects two services on one port', () => {
    expect(() => loadConfig({ CLICKSTREAM_MINIO_PORT: '19092' })).toThrow(/must differ, got 19092, 19093, 19092, 18080/);
  });
});
