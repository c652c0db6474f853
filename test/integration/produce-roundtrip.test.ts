import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeEvent } from '../../lambdas/common/decode-event.ts';
import type { SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { produce } from '../../local/produce/produce.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { consumeWithJavaClient, createTestTopic, type ConsumedRecord } from './helpers.ts';

const config = inject('config');
const COUNT = 50_000;

describe('producer -> real Kafka broker -> an independent consumer', () => {
  let topic: Awaited<ReturnType<typeof createTestTopic>>;
  const acknowledged: SimulatedRecord[] = [];
  let consumed: ConsumedRecord[] = [];
  let summary: Awaited<ReturnType<typeof produce>>;

  beforeAll(async () => {
    topic = await createTestTopic(config);
    summary = await produce({
      bootstrapServers: [bootstrapServers(config)],
      topic: topic.topic,
      rate: 'max',
      count: COUNT,
      seed: 2026,
      onAcknowledged: (batch) => acknowledged.push(...batch),
    });
    consumed = await consumeWithJavaClient(config, topic.topic, COUNT + 1);
  });

  afterAll(async () => {
    await topic?.remove();
  });

  it('counts every record as acknowledged, none as failed', () => {
    expect(summary.errors).toBe(0);
    expect(summary.sent).toBe(COUNT);
    expect(acknowledged).toHaveLength(COUNT);
  });

  it('lands exactly the acknowledged records on the topic, none missing, none extra', () => {
    expect(consumed).toHaveLength(COUNT);
    const sentIds = acknowledged.map((r) => r.event!.event_id).sort();
    const readIds = consumed.map((r) => (JSON.parse(r.value) as { event_id: string }).event_id).sort();
    expect(readIds).toEqual(sentIds);
  });

  it('writes only schema-valid events', () => {
    const invalid = consumed.map((r) => decodeEvent(Buffer.from(r.value), Date.now())).filter((r) => !r.ok);
    expect(invalid).toEqual([]);
  });

  it('keys each record by session id and keeps a session in one partition, in order', () => {
    const partitionOf = new Map<string, number>();
    const lastTime = new Map<string, number>();
    for (const record of consumed) {
      const event = JSON.parse(record.value) as { session_id: string; event_time: number };
      expect(record.key).toBe(event.session_id);
      expect(partitionOf.get(record.key) ?? record.partition).toBe(record.partition);
      partitionOf.set(record.key, record.partition);
      // The console consumer prints partitions interleaved, but each partition in offset order.
      expect(event.event_time).toBeGreaterThanOrEqual(lastTime.get(record.key) ?? 0);
      lastTime.set(record.key, event.event_time);
    }
    expect(new Set(partitionOf.values()).size).toBe(6);
  });
});
