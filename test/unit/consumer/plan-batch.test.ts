import { describe, expect, it } from 'vitest';
import { DEFAULT_LAKE_TIMING } from '../../../lambdas/common/lake-timing.ts';
import { hourPartition, lateKeyEventHours, lateKeyIngestTime } from '../../../lambdas/consumer/lake-keys.ts';
import { planBatch } from '../../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../../lambdas/consumer/source-record.ts';
import { malformedRecord } from '../../../lambdas/simulator/malformed.ts';
import { ShopperSimulator } from '../../../lambdas/simulator/simulator.ts';

const START = Date.UTC(2026, 10, 23, 22, 50);
/** 23:05: both hours the records fall in (22:50-23:10) are still open for on-time writes. */
const INGEST = START + 15 * 60_000;
const HOUR = 3_600_000;
const KEY = /^events\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/clickstream\.events-p\d+-o\d+-\d+\.parquet$/;

function records(count: number, partition = 0, firstOffset = 0): SourceRecord[] {
  // Two events a second from 22:50: 2,400 of them cross into the next hour.
  const sim = new ShopperSimulator({ seed: 11, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: true });
  return Array.from({ length: count }, (_, i) => ({ topic: 'clickstream.events', partition, offset: String(firstOffset + i), value: sim.nextRecord().value }));
}

describe('hourPartition', () => {
  it.each([
    [Date.UTC(2026, 0, 5, 7, 59, 59, 999), 'year=2026/month=01/day=05/hour=07'],
    [Date.UTC(2026, 11, 31, 23, 0), 'year=2026/month=12/day=31/hour=23'],
    [Date.UTC(2027, 0, 1, 0, 0), 'year=2027/month=01/day=01/hour=00'],
  ])('files %d under %s (UTC, zero-padded)', (time, expected) => {
    expect(hourPartition(time)).toBe(expected);
  });
});

describe('planBatch', () => {
  it('groups rows by source partition and event hour, under keys fixed by the offsets', () => {
    const batch = [...records(2_400, 0, 1_000), ...records(10, 4, 50)];
    const plans = planBatch(batch, INGEST);
    expect(plans.map((p) => [p.partition, p.firstOffset, p.lastOffset])).toEqual([
      [0, '1000', '3399'],
      [4, '50', '59'],
    ]);
    const [p0] = plans;
    expect(p0!.events.length).toBe(2);
    for (const o of p0!.events) {
      expect(o.key).toMatch(KEY);
      expect(o.key).toContain(hourPartition(o.rows[0]!.event_time));
      for (const r of o.rows) expect(hourPartition(r.event_time)).toBe(hourPartition(o.rows[0]!.event_time));
    }
    expect(p0!.events.reduce((n, o) => n + o.rows.length, 0)).toBe(2_400);
    expect(p0!.events[0]!.key).toContain('day=23/hour=22/clickstream.events-p0-o1000-');
    expect(p0!.events[1]!.key).toMatch(/day=23\/hour=23\/clickstream\.events-p0-o\d+-3399\.parquet$/);
  });

  it('gives the same records the same keys on every run: no clock and no randomness in a key', () => {
    const keys = () => planBatch(records(500), INGEST).flatMap((p) => p.events.map((o) => o.key));
    expect(keys()).toEqual(keys());
  });

  it('adds lineage to every row', () => {
    const [plan] = planBatch(records(3, 2, 40), INGEST);
    expect(plan!.events[0]!.rows[1]).toMatchObject({ source_topic: 'clickstream.events', source_partition: 2, source_offset: '41', ingest_time: INGEST });
  });

  it('quarantines bad records with the reason and source coordinates, and keeps the rest', () => {
    const good = records(5);
    const event = JSON.parse(good[0]!.value!.toString()) as Parameters<typeof malformedRecord>[0];
    const batch: SourceRecord[] = [
      ...good,
      { topic: 'clickstream.events', partition: 0, offset: '5', value: malformedRecord(event, 'negative_price') },
      { topic: 'clickstream.events', partition: 0, offset: '6', value: malformedRecord(event, 'invalid_utf8') },
      { topic: 'clickstream.events', partition: 0, offset: '7', value: null },
    ];
    const [plan] = planBatch(batch, INGEST);
    expect(plan!.stats).toEqual({ records: 8, valid: 5, quarantined: 3, duplicatesDropped: 0 });
    expect(plan!.quarantine!.key).toBe('quarantine/year=2026/month=11/day=23/hour=23/clickstream.events-p0-o5-7.jsonl');
    expect(plan!.quarantine!.rows.map((q) => [q.source_offset, q.code, q.reason, q.raw_encoding])).toEqual([
      ['5', 'invalid_event', 'product_price must be >= 0', 'utf8'],
      ['6', 'invalid_utf8', 'record is not valid UTF-8', 'base64'],
      ['7', 'no_value', 'record has no value', 'utf8'],
    ]);
    expect(Buffer.from(plan!.quarantine!.rows[1]!.raw!, 'base64')).toEqual(batch[6]!.value);
  });

  it('drops a repeated event id within the batch, and counts it', () => {
    const [a, b] = records(2);
    const [plan] = planBatch([a!, b!, { ...a!, offset: '2' }], INGEST);
    expect(plan!.stats).toMatchObject({ valid: 2, duplicatesDropped: 1 });
  });

  it('orders offsets numerically, not as text (Kinesis sequence numbers are long)', () => {
    const [a, b] = records(2);
    const [plan] = planBatch([{ ...a!, offset: '999' }, { ...b!, offset: '1000' }], INGEST);
    expect([plan!.firstOffset, plan!.lastOffset]).toEqual(['999', '1000']);
  });

  it('puts the rows of hours closed at ingest into one late file, however many hours they span', () => {
    // 5,000 events one hour apart, ending in the open hour: a replay of old data.
    const sim = new ShopperSimulator({ seed: 12, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: true });
    const batch: SourceRecord[] = Array.from({ length: 5_000 }, (_, i) => {
      const event = { ...sim.nextRecord().event!, event_time: INGEST - (4_999 - i) * HOUR };
      return { topic: 'clickstream.events', partition: 0, offset: String(i), value: Buffer.from(JSON.stringify(event)) };
    });
    const [plan] = planBatch(batch, INGEST);
    expect(plan!.stats.valid).toBe(5_000);
    // The open hours (23:00, and 22:00 until 23:10) get their own files; every older hour shares one.
    expect(plan!.events.map((o) => o.key.split('/')[0])).toEqual(['events', 'events', 'late']);
    const late = plan!.events[2]!;
    // More event hours than a name lists: it gives the first and last, in hours since the epoch.
    const [firstHour, lastHour] = [INGEST - 4_999 * HOUR, INGEST - 2 * HOUR].map((t) => Math.floor(t / HOUR));
    expect(late.key).toBe(`late/year=2026/month=11/day=23/hour=23/clickstream.events-p0-o0-4997-t${INGEST}-h${firstHour}-${lastHour}.parquet`);
    expect(lateKeyIngestTime(late.key)).toBe(INGEST);
    const hourOf = (t: number) => Math.floor(t / HOUR) * HOUR;
    expect(lateKeyEventHours(late.key)).toEqual([[Math.min(...late.rows.map((r) => hourOf(r.event_time))), Math.max(...late.rows.map((r) => hourOf(r.event_time)))]]);
    expect(late.rows.length).toBe(4_998);
    for (const r of late.rows) expect(r.event_time + HOUR + DEFAULT_LAKE_TIMING.lateAfterMs).toBeLessThanOrEqual(INGEST);
  });

  it('lists the event hours of a late file in its name when there are few: a straggler from yesterday does not stand for the hours between', () => {
    const sim = new ShopperSimulator({ seed: 13, startTimeMs: START, eventsPerSecond: 2, dailyCurve: false, warmStart: true });
    const times = [INGEST - 30 * HOUR, INGEST - 3 * HOUR, INGEST - 3 * HOUR + 60_000];
    const batch: SourceRecord[] = times.map((t, i) => ({ topic: 'clickstream.events', partition: 0, offset: String(i), value: Buffer.from(JSON.stringify({ ...sim.nextRecord().event!, event_time: t })) }));
    const late = planBatch(batch, INGEST)[0]!.events.find((o) => o.key.startsWith('late/'))!;
    const hours = [INGEST - 30 * HOUR, INGEST - 3 * HOUR].map((t) => Math.floor(t / HOUR));
    expect(late.key).toBe(`late/year=2026/month=11/day=23/hour=23/clickstream.events-p0-o0-2-t${INGEST}-h${hours.join('.')}.parquet`);
    expect(lateKeyEventHours(late.key)).toEqual(hours.map((h) => [h * HOUR, h * HOUR]));
    expect(lateKeyIngestTime(late.key)).toBe(INGEST);
  });

  it('takes the lateness from the timing it is given', () => {
    const batch = records(2_400);
    const strict = planBatch(batch, INGEST, { ...DEFAULT_LAKE_TIMING, lateAfterMs: 60_000 })[0]!;
    // With one minute of grace, 22:00 closed at 23:01: its rows go to the late file.
    expect(strict.events.map((o) => o.key.split('/')[0])).toEqual(['events', 'late']);
    expect(strict.events[1]!.rows.every((r) => hourPartition(r.event_time).endsWith('hour=22'))).toBe(true);
  });
});
