import { describe, expect, it } from 'vitest';
import { failedEntries, putRecordsBatches, putRecordsEntries, PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_ENTRIES } from '../../lambdas/ingest/kinesis-producer.ts';
import { loadScheduledSimulatorConfig } from '../../lambdas/simulator/scheduled-config.ts';
import { shopperAt } from '../../lambdas/simulator/population.ts';
import { scheduledTimeMs, simulatedMinuteStart, simulateMinute } from '../../lambdas/simulator/scheduled-minute.ts';

const KAFKA_ENV = {
  CLICKSTREAM_EVENTS_PER_MINUTE: '600',
  CLICKSTREAM_INGEST: 'kafka',
  CLICKSTREAM_TOPIC: 'clickstream.events',
  CLICKSTREAM_BOOTSTRAP_SERVERS: 'boot-abc.c2.kafka-serverless.us-east-1.amazonaws.com:9098',
  CLICKSTREAM_KAFKA_AUTH: 'iam',
  AWS_REGION: 'us-east-1',
};

describe('scheduled simulator config', () => {
  it('reads an MSK IAM setup, TLS on unless turned off', () => {
    expect(loadScheduledSimulatorConfig({ ...KAFKA_ENV, CLICKSTREAM_CREATE_TOPIC_PARTITIONS: '6' })).toEqual({
      eventsPerMinute: 600,
      ingest: {
        kind: 'kafka',
        topic: 'clickstream.events',
        bootstrapServers: ['boot-abc.c2.kafka-serverless.us-east-1.amazonaws.com:9098'],
        auth: { kind: 'iam', region: 'us-east-1' },
        tls: true,
        createTopicPartitions: 6,
      },
    });
  });

  it('reads a Kinesis setup', () => {
    const env = { CLICKSTREAM_EVENTS_PER_MINUTE: '1', CLICKSTREAM_INGEST: 'kinesis', CLICKSTREAM_STREAM_NAME: 'clickstream.events' };
    expect(loadScheduledSimulatorConfig(env)).toEqual({ eventsPerMinute: 1, ingest: { kind: 'kinesis', streamName: 'clickstream.events' } });
  });

  it.each([
    [{ CLICKSTREAM_EVENTS_PER_MINUTE: '0' }, /CLICKSTREAM_EVENTS_PER_MINUTE must be a whole number from 1 to 600000, got "0"/],
    [{ CLICKSTREAM_EVENTS_PER_MINUTE: '2.5' }, /CLICKSTREAM_EVENTS_PER_MINUTE must be a whole number/],
    [{ CLICKSTREAM_INGEST: 'sqs' }, /CLICKSTREAM_INGEST must be kafka or kinesis, got "sqs"/],
    [{ CLICKSTREAM_BOOTSTRAP_SERVERS: 'no-port' }, /host:port pairs separated by commas, got "no-port"/],
    [{ CLICKSTREAM_KAFKA_AUTH: 'plain' }, /CLICKSTREAM_KAFKA_AUTH must be iam, scram-sha-512 or none, got "plain"/],
    [{ CLICKSTREAM_KAFKA_AUTH: 'scram-sha-512' }, /CLICKSTREAM_KAFKA_SECRET_ARN is not set/],
    [{ CLICKSTREAM_TOPIC: '' }, /CLICKSTREAM_TOPIC is not set/],
    [{ CLICKSTREAM_CREATE_TOPIC_PARTITIONS: '-1' }, /CLICKSTREAM_CREATE_TOPIC_PARTITIONS must be a whole number above zero/],
  ])('rejects %o with a clear error', (override, error) => {
    expect(() => loadScheduledSimulatorConfig({ ...KAFKA_ENV, ...override })).toThrow(error);
  });
});

describe('scheduled minute', () => {
  const scheduled = Date.UTC(2026, 10, 24, 10, 5, 0, 120);

  it('simulates the minute before the scheduled time, from the EventBridge event time', () => {
    expect(scheduledTimeMs({ time: '2026-11-24T10:05:00Z' }, 0)).toBe(Date.UTC(2026, 10, 24, 10, 5));
    expect(scheduledTimeMs({ time: 'not a time' }, 42)).toBe(42);
    expect(scheduledTimeMs(undefined, 42)).toBe(42);
    expect(simulatedMinuteStart(scheduled)).toBe(Date.UTC(2026, 10, 24, 10, 4));
  });

  it('sends exactly the configured count, keyed by session id, the same on a retry', () => {
    const start = simulatedMinuteStart(scheduled);
    const records = simulateMinute(start, 300);
    expect(records).toHaveLength(300);
    for (const r of records) expect(r.key).toBe(r.event?.session_id);
    const times = records.map((r) => r.event!.event_time);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(start);
    expect(Math.max(...times)).toBeLessThan(start + 2 * 60_000);
    expect(simulateMinute(start, 300).map((r) => r.event?.event_id)).toEqual(records.map((r) => r.event?.event_id));
    expect(simulateMinute(start + 60_000, 300)[0]!.event?.event_id).not.toBe(records[0]!.event?.event_id);
  });

  it('draws every minute from one population, so a shopper keeps its demographics across minutes', () => {
    // Each minute has its own seed; the shoppers must not depend on it.
    const start = simulatedMinuteStart(scheduled);
    const events = [0, 1, 2].flatMap((m) => simulateMinute(start + m * 60_000, 3_000)).map((r) => r.event!);
    const mismatched = events.filter((e) => {
      const shopper = shopperAt(Number(e.user_id.slice(2)));
      return e.user_age !== shopper.age || e.user_gender !== shopper.gender || e.user_country !== shopper.country;
    });
    expect(mismatched).toEqual([]);
    // 50 events/s is a shop of about 50 million shoppers: in three minutes almost nobody comes twice.
    const sessions = new Set(events.map((e) => e.session_id)).size;
    expect(sessions / new Set(events.map((e) => e.user_id)).size).toBeLessThan(1.01);
  });
});

describe('Kinesis PutRecords batching', () => {
  it('uses the session id as partition key and splits at 500 entries', () => {
    const records = Array.from({ length: 1_201 }, (_, i) => ({ key: `s-${i % 7}`, value: Buffer.from(`{"n":${i}}`) }));
    const batches = putRecordsBatches(putRecordsEntries(records));
    expect(batches.map((b) => b.length)).toEqual([PUT_RECORDS_MAX_ENTRIES, PUT_RECORDS_MAX_ENTRIES, 201]);
    expect(batches[0]![3]).toEqual({ PartitionKey: 's-3', Data: Buffer.from('{"n":3}') });
  });

  it('splits before a request would pass 5 MiB', () => {
    const big = { key: 'k', value: Buffer.alloc(2 * 1024 * 1024) };
    const batches = putRecordsBatches(putRecordsEntries([big, big, big]));
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    for (const b of batches) expect(b.reduce((n, e) => n + e.Data!.byteLength + 1, 0)).toBeLessThanOrEqual(PUT_RECORDS_MAX_BYTES);
  });

  it('retries exactly the entries Kinesis reported as failed', () => {
    const sent = putRecordsEntries([0, 1, 2].map((i) => ({ key: `k${i}`, value: Buffer.from([i]) })));
    const failed = failedEntries(sent, [{ SequenceNumber: '1', ShardId: 's' }, { ErrorCode: 'ProvisionedThroughputExceededException' }, { SequenceNumber: '2', ShardId: 's' }]);
    expect(failed.map((e) => e.PartitionKey)).toEqual(['k1']);
  });
});
