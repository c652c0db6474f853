import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '@platformatic/kafka';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { KafkaEvent } from '../../lambdas/consumer/kafka-event.ts';
import { consumerLag } from '../../local/consume/consumer-lag.ts';
import { EventSourceRunner, MAX_PAYLOAD_BYTES, type EventSourceRunnerOptions } from '../../local/consume/event-source-runner.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { createTestTopic } from './helpers.ts';

const config = inject('config');
const PARTITIONS = 3;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(records: number, valueBytes = 100): Promise<{ topic: string; groupId: string }> {
  const topic = await createTestTopic(config, PARTITIONS);
  cleanups.push(topic.remove);
  // Idempotent, so a send retried on a brand-new topic's first metadata error adds no copies.
  const producer = new Producer({ clientId: 'runner-test', bootstrapBrokers: [bootstrapServers(config)], idempotent: true });
  // Sends stay under the broker's 1 MB message batch limit.
  const perSend = Math.max(1, Math.floor(500_000 / (valueBytes + 50)));
  for (let i = 0; i < records; i += perSend) {
    const count = Math.min(perSend, records - i);
    await producer.send({
      messages: Array.from({ length: count }, (_, j) => ({
        topic: topic.topic,
        key: Buffer.from(`k${(i + j) % 17}`),
        value: Buffer.from(JSON.stringify({ n: i + j, pad: 'x'.repeat(valueBytes) })),
        headers: new Map([[Buffer.from('trace'), Buffer.from('abc')]]),
      })),
    });
  }
  await producer.close();
  return { topic: topic.topic, groupId: `runner-test-${randomBytes(4).toString('hex')}` };
}

function runner(options: Partial<EventSourceRunnerOptions> & Pick<EventSourceRunnerOptions, 'topic' | 'groupId' | 'handler'>) {
  const r = new EventSourceRunner({
    bootstrapServers: [bootstrapServers(config)],
    batchingWindowSeconds: 0.2,
    retryBaseDelayMs: 50,
    onFailure: { write: () => Promise.resolve() },
    ...options,
  });
  cleanups.push(() => r.stop());
  return r;
}

const numbers = (event: KafkaEvent) =>
  Object.values(event.records).flatMap((list) => list.map((r) => (JSON.parse(Buffer.from(r.value!, 'base64').toString()) as { n: number }).n));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(100);
  }
}

const caughtUp = async (topic: string, groupId: string) =>
  (await consumerLag([bootstrapServers(config)], topic, PARTITIONS, groupId)).every((p) => p.lag === 0);

describe('EventSourceRunner against the real broker', () => {
  it('delivers every record once, in partition order, in batches no larger than the batch size, then commits', async () => {
    const { topic, groupId } = await setup(2_500);
    const events: KafkaEvent[] = [];
    const r = runner({ topic, groupId, batchSize: 1_000, handler: (e) => Promise.resolve(void events.push(e)) });
    await r.start();
    await until(() => events.flatMap(numbers).length >= 2_500);
    await until(() => caughtUp(topic, groupId));

    expect(events.flatMap(numbers).sort((a, b) => a - b)).toEqual(Array.from({ length: 2_500 }, (_, i) => i));
    for (const e of events) expect(Object.values(e.records).flat().length).toBeLessThanOrEqual(1_000);
    const lastOffset = new Map<string, number>();
    for (const e of events) {
      expect(e.eventSource).toBe('SelfManagedKafka');
      for (const [group, list] of Object.entries(e.records)) {
        for (const record of list) {
          expect(group).toBe(`${topic}-${record.partition}`);
          expect(record.offset).toBeGreaterThan(lastOffset.get(group) ?? -1);
          lastOffset.set(group, record.offset);
          expect(record.headers).toEqual([{ trace: [...Buffer.from('abc')] }]);
          expect(Buffer.from(record.key!, 'base64').toString()).toMatch(/^k\d+$/);
        }
      }
    }
  });

  it('retries a failing batch with the same records and commits only after it succeeds', async () => {
    const { topic, groupId } = await setup(300);
    const attempts: number[][] = [];
    const r = runner({
      topic,
      groupId,
      batchingWindowSeconds: 1,
      handler: async (e) => {
        attempts.push(numbers(e));
        if (attempts.length <= 2) {
          expect(await caughtUp(topic, groupId)).toBe(false);
          throw new Error('storage down');
        }
      },
    });
    await r.start();
    await until(() => caughtUp(topic, groupId));
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(attempts[2]).toEqual(attempts[0]);
    expect(r.stats.failedAttempts).toBe(2);
  });

  it('after the last attempt sends the batch metadata to the on-failure destination and moves on', async () => {
    const { topic, groupId } = await setup(50);
    const written: { key: string; body: string }[] = [];
    const r = runner({
      topic,
      groupId,
      batchingWindowSeconds: 1,
      maxAttempts: 2,
      handler: () => Promise.reject(new Error('poison')),
      onFailure: { write: (key, body) => Promise.resolve(void written.push({ key, body })) },
    });
    await r.start();
    await until(() => caughtUp(topic, groupId));
    expect(written.length).toBeGreaterThan(0);
    const record = JSON.parse(written[0]!.body) as { requestContext: { condition: string }; KafkaBatchInfo: { records: number }[]; reason: string };
    expect(written[0]!.key).toMatch(new RegExp(`^on-failure/${topic.replace('.', '\\.')}-\\d-o\\d+-\\d+\\.json$`));
    expect(record.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(record.reason).toBe('poison');
    expect(written.flatMap((w) => (JSON.parse(w.body) as typeof record).KafkaBatchInfo).reduce((n, p) => n + p.records, 0)).toBe(50);
    expect(r.stats.sentToOnFailure).toBe(50);
  });

  it('keeps every invocation under the 6 MB payload cap', async () => {
    const { topic, groupId } = await setup(400, 30_000);
    const sizes: number[] = [];
    let delivered = 0;
    const r = runner({
      topic,
      groupId,
      handler: (e) => {
        sizes.push(Buffer.byteLength(JSON.stringify(e)));
        delivered += numbers(e).length;
        return Promise.resolve();
      },
    });
    await r.start();
    await until(() => delivered >= 400);
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });
});
