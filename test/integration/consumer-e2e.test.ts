import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { QuarantinedRecord } from '../../lambdas/consumer/plan-batch.ts';
import type { SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { pipelineLag } from '../../local/consume/consumer-lag.ts';
import { produce } from '../../local/produce/produce.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { openLake, waitForConsumer } from './helpers.ts';

const config = inject('config');
const COUNT = 100_000;

/** Every file under a directory, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('simulator -> Kafka -> runner -> bundled handler -> Parquet in MinIO -> DuckDB', () => {
  const acknowledged: SimulatedRecord[] = [];
  let lake: Awaited<ReturnType<typeof openLake>>;
  const valid = () => acknowledged.filter((r) => r.event);
  const malformed = () => acknowledged.filter((r) => r.injected === 'malformed');

  /** This test's rows: the offsets it produced into, per partition (other tests share the topic). */
  let ours = '';
  /** The same offsets as data: partition → [first, end). */
  let window = new Map<number, [number, number]>();
  const inWindow = (partition: number, offset: string) => {
    const range = window.get(partition);
    return range !== undefined && Number(offset) >= range[0] && Number(offset) < range[1];
  };

  beforeAll(async () => {
    const before = await pipelineLag(config);
    const summary = await produce({
      bootstrapServers: [bootstrapServers(config)],
      topic: config.topic,
      rate: 'max',
      count: COUNT,
      seed: 31,
      inject: { duplicates: 0.01, late: 0.01, malformed: 0.01 },
      onAcknowledged: (batch) => acknowledged.push(...batch),
    });
    expect(summary.errors).toBe(0);
    await waitForConsumer(config);
    const after = await pipelineLag(config);
    window = new Map(after.map((p) => [p.partition, [before.find((b) => b.partition === p.partition)?.endOffset ?? 0, p.endOffset]]));
    ours = `source_topic = '${config.topic}' AND (${[...window]
      .map(([partition, [from, to]]) => `(source_partition = ${partition} AND source_offset::BIGINT >= ${from} AND source_offset::BIGINT < ${to})`)
      .join(' OR ')})`;
    lake = await openLake(config);
  }, 300_000);

  afterAll(() => lake?.close());

  it('lands exactly the distinct valid event ids, and nothing else', async () => {
    const expected = new Set(valid().map((r) => r.event!.event_id));
    const rows = await lake.query(`SELECT DISTINCT event_id FROM events WHERE ${ours}`);
    const landed = new Set(rows.map((r) => r.event_id as string));
    expect(landed.size).toBe(expected.size);
    expect([...expected].filter((id) => !landed.has(id))).toEqual([]);
  });

  it('never stores an event more often than it was sent (source duplicates are dropped within a batch)', async () => {
    const sent = new Map<string, number>();
    for (const r of valid()) sent.set(r.event!.event_id, (sent.get(r.event!.event_id) ?? 0) + 1);
    const rows = await lake.query(`SELECT event_id, count(*)::INTEGER AS n FROM events WHERE ${ours} GROUP BY event_id HAVING count(*) > 1`);
    for (const row of rows) expect(row.n as number).toBeLessThanOrEqual(sent.get(row.event_id as string) ?? 1);
    expect(acknowledged.filter((r) => r.injected === 'duplicate').length).toBeGreaterThan(500);
  });

  it('files each event, late ones included, under the hour of its event time', async () => {
    const [misfiled] = await lake.query(
      `SELECT count(*)::INTEGER AS n FROM events
       WHERE year != year(event_time) OR month != month(event_time) OR day != day(event_time) OR hour != hour(event_time)`,
    );
    expect(misfiled!.n).toBe(0);
    const late = acknowledged.filter((r) => r.injected === 'late').map((r) => `'${r.event!.event_id}'`);
    const [found] = await lake.query(`SELECT count(DISTINCT event_id)::INTEGER AS n FROM events WHERE event_id IN (${late.join(',')})`);
    expect(found!.n).toBe(late.length);
  });

  it('keeps types and values exact: timestamps, money, nulls and lineage', async () => {
    const sample = valid().find((r) => r.event!.event_type === 'purchase')!.event!;
    const [row] = await lake.query(
      `SELECT epoch_ms(event_time)::DOUBLE AS t, revenue, product_price, quantity, referrer, campaign, source_partition, source_offset, typeof(event_time) AS tt
       FROM events WHERE event_id = '${sample.event_id}' LIMIT 1`,
    );
    expect(row).toMatchObject({ t: sample.event_time, revenue: sample.revenue, product_price: sample.product_price, quantity: sample.quantity });
    expect(row!.tt).toBe('TIMESTAMP WITH TIME ZONE');
    expect(row!.referrer ?? null).toBe(sample.referrer);
    expect(row!.campaign ?? null).toBe(sample.campaign);
    expect(row!.source_partition).toBeGreaterThanOrEqual(0);
    expect(String(row!.source_offset)).toMatch(/^\d+$/);
  });

  /** The payload as quarantined; a record with no value has none (and then matches no malformed record of ours). */
  const rawOf = (q: QuarantinedRecord) => (q.raw === null ? Buffer.alloc(0) : Buffer.from(q.raw, q.raw_encoding === 'base64' ? 'base64' : 'utf8'));

  it('quarantines exactly the malformed records, with the reason, the raw payload and where each came from', () => {
    const lines = files(join(lake.dir, 'quarantine'))
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as QuarantinedRecord);
    // Among the offsets this test produced into, every quarantined record is one of its malformed ones.
    const sentOffsets = lines.filter((q) => q.source_topic === config.topic && inWindow(q.source_partition, q.source_offset));
    const ours = sentOffsets.filter((q) => malformed().some((r) => r.value.toString('base64') === rawOf(q).toString('base64')));
    expect(sentOffsets).toHaveLength(malformed().length);
    expect(ours).toHaveLength(malformed().length);
    const sent = new Set(malformed().map((r) => r.value.toString('base64')));
    for (const q of ours) {
      expect(q.reason.length).toBeGreaterThan(5);
      expect(q.source_offset).toMatch(/^\d+$/);
      expect(sent.has(rawOf(q).toString('base64'))).toBe(true);
    }
    const reasons = new Set(ours.map((q) => q.reason.replace(/[\d"]+/g, '').slice(0, 25)));
    expect(reasons.size).toBeGreaterThanOrEqual(6);
  });
});
