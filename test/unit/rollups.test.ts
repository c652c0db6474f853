/**
 * Rollups give exactly the answers of the raw events, on real DuckDB over a lake
 * the real consumer and compactor wrote (into a directory, read as the local
 * engine reads its mirror): every named query over random ranges and filters,
 * with rollups against without (the events grouped the same way as the query
 * runs; test/integration/query-layer.test.ts checks those answers, rolled-up
 * hours included, against figures computed in TypeScript), on a lake with re-sent
 * copies, late and malformed records; before and after compaction and after a
 * late event for a rolled-up hour. The compactor's rollup files (what Athena reads) must hold the
 * local engine's rollup rows for each hour: the TypeScript and SQL builders agree. The lake is one
 * that lived through schema v2 (test/site-traffic.ts): v1 files (demographics and device required)
 * until half past the second hour, then a real site's events with unknown values and bots, so the
 * rollups group NULL keys as the raw queries do, bots are left out (or asked for) alike, and the
 * compactor merges the files of both versions in one hour. The compactor works in slices of at most
 * SLICE_ROWS rows (a few per hour, as a big hour would be), so its rollups are checked as it builds them
 * for hours bigger than its memory.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_KEY, parseManifest } from '../../lambdas/common/compaction-manifest.ts';
import { DEFAULT_LAKE_TIMING } from '../../lambdas/common/lake-timing.ts';
import { compactLake } from '../../lambdas/compactor/compact-lake.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import { QUERY_NAMES, querySql, splitRange } from '../../lambdas/query/named-queries.ts';
import { QueryApi } from '../../lambdas/query/query-api.ts';
import { ROLLUP_COLUMNS, ROLLUP_NAMES } from '../../lambdas/query/rollups.ts';
import { Rng } from '../../lambdas/simulator/random.ts';
import { ShopperSimulator, type SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import type { ClickstreamEvent } from '../../lambdas/common/event-schema.ts';
import { DuckDbLake } from '../../local/lake/duckdb-lake.ts';
import { answerDifferences } from '../answer-differences.ts';
import { DirectoryFeed, DirectoryStore } from '../directory-store.ts';
import { asSiteTraffic, encodeEitherVersion } from '../site-traffic.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 30, 20, 17);
const END = START + 5 * HOUR;
/** Long after the data: every hour is settled for the compactor and the local engine. */
const LATER = END + 2 * HOUR;
/** Until then, v1 events in v1 files; the second hour holds files of both versions. */
const V1_BEFORE = START + HOUR + 13 * MINUTE;
/** Far below an hour's rows here (about 5,400), so every hour is compacted in several slices. */
const SLICE_ROWS = 1_000;
const DEVICES = ['desktop', 'mobile', 'tablet', 'bot'];
const SOURCES = ['organic_search', 'paid_search', 'email', 'social', 'direct', 'referral'];

let dir: string;
let store: DirectoryStore;
let feed: DirectoryFeed;
let withRollups: DuckDbLake;
let withoutRollups: DuckDbLake;
const sent: SimulatedRecord[] = [];

/** The simulator's records through the real consumer, a batch of 400 at a time, each ingested a minute after its newest event. */
async function consume(records: readonly SimulatedRecord[], topic: string, ingestAt?: number): Promise<void> {
  let newest = 0;
  for (let i = 0; i < records.length; i += 400) {
    const batch = records.slice(i, i + 400);
    for (const r of batch) newest = Math.max(newest, r.event?.event_time ?? 0);
    const source = batch.map((r, j) => ({ topic, partition: 0, offset: String(i + j), value: r.value }));
    await consumeRecords(store, source, ingestAt ?? newest + MINUTE, encodeEitherVersion);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clickstream-rollups-'));
  store = new DirectoryStore(dir);
  feed = new DirectoryFeed(store);
  const sim = new ShopperSimulator({ seed: 2026, startTimeMs: START, eventsPerSecond: 1.5, dailyCurve: false, warmStart: true, inject: { duplicates: 0.04, late: 0.02, malformed: 0.01 } });
  for (;;) {
    const r = sim.nextRecord();
    if (r.event && r.event.event_time >= END) break;
    sent.push(asSiteTraffic(r, { v1Era: [0, V1_BEFORE] }));
  }
  await consume(sent, 'live');
  const files = (await feed.changes()).added;
  withRollups = await DuckDbLake.open(dir, { now: () => LATER, files });
  withoutRollups = await DuckDbLake.open(dir, { rollups: false, files });
}, 120_000);

afterAll(() => {
  withRollups?.close();
  withoutRollups?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Random ranges (any second, from minutes to the whole run and beyond) with random filters, the same every run. */
function cases(seed: number, count: number): Record<string, string>[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const from = START - 30 * MINUTE + rng.int(0, 5 * 3_600) * 1000;
    const to = Math.min(from + rng.int(60, 7 * 3_600) * 1000, LATER);
    return {
      from: String(from),
      to: String(to),
      ...(rng.chance(0.3) && { device: rng.pick(DEVICES) }),
      ...(rng.chance(0.3) && { source: rng.pick(SOURCES) }),
      ...(rng.chance(0.2) && { country: rng.pick(['US', 'GB', 'DE']) }),
    };
  });
}

/** Every named query's answer from both engines for these parameters, compared. */
async function expectSameAnswers(params: Record<string, string>): Promise<void> {
  const [a, b] = [new QueryApi({ engine: withRollups, now: () => LATER }), new QueryApi({ engine: withoutRollups, now: () => LATER })];
  for (const name of QUERY_NAMES) {
    const [x, y] = await Promise.all([a.handle(name, params), b.handle(name, params)]);
    expect([x.statusCode, y.statusCode], `${name}: ${x.body}`).toEqual([200, 200]);
    const strip = (body: string) => {
      const { generatedAt: _, ...rest } = JSON.parse(body) as Record<string, unknown>;
      return rest;
    };
    expect(answerDifferences(strip(x.body), strip(y.body), name), `${name} ${JSON.stringify(params)}`).toEqual([]);
  }
}

async function refresh(): Promise<void> {
  const changes = await feed.changes();
  await withRollups.apply(changes);
  await withoutRollups.apply(changes);
}

describe('rollups on the local engine', () => {
  it('group a lake of both schema versions, with unknown values and bots', async () => {
    // The hour of V1_BEFORE holds files of both versions, which the compactor merges below.
    const schema = await withRollups.run(`SELECT repetition_type AS repetition, count(DISTINCT file_name) AS files
      FROM parquet_schema('${dir}/events/year=2026/month=11/day=30/hour=21/*.parquet') WHERE name = 'user_age' GROUP BY 1 ORDER BY 1`);
    expect(schema.map((r) => r.repetition)).toEqual(['OPTIONAL', 'REQUIRED']);
    const [counts] = await withRollups.run(`SELECT count(CASE WHEN device_type = 'bot' THEN 1 END) AS bots, count(CASE WHEN device_type IS NULL THEN 1 END) AS no_device,
      count(CASE WHEN user_age IS NULL THEN 1 END) AS no_age, count(CASE WHEN user_gender IS NULL THEN 1 END) AS no_gender,
      count(CASE WHEN user_country IS NULL THEN 1 END) AS no_country, count(CASE WHEN product_id IS NOT NULL AND product_category IS NULL THEN 1 END) AS no_category
      FROM lake_events`);
    for (const [what, n] of Object.entries(counts!)) expect(n as number, what).toBeGreaterThan(100);
  });

  it('roll up every settled hour, and a query over whole hours reads the rollups', async () => {
    const view = await withRollups.lakeView();
    expect(view.rollups.size).toBeGreaterThanOrEqual(5);
    const params = { fromMs: START - 17 * MINUTE + HOUR, toMs: START - 17 * MINUTE + 4 * HOUR };
    expect(splitRange(params, view)).toEqual({ rolledUp: [params.fromMs, params.fromMs + HOUR, params.fromMs + 2 * HOUR], fromEvents: [] });
    expect(querySql('revenue_over_time', withRollups.dialect, params, view)).toContain('FROM lake_rollup_sessions');
    const [rows] = await withRollups.run(`SELECT count(*) AS n FROM lake_rollup_sessions`);
    expect(rows!.n as number).toBeGreaterThan(1_000);
  });

  it('count the regular users of each rolled-up hour by numbers, and keep the ids of the others', async () => {
    const params = { fromMs: START - 17 * MINUTE + HOUR, toMs: START - 17 * MINUTE + 4 * HOUR };
    const view = await withRollups.lakeView();
    expect(querySql('kpis', withRollups.dialect, params, view)).toContain('FROM lake_rollup_counts');
    expect(querySql('kpis', withRollups.dialect, params, view)).toContain('FROM lake_rollup_id_rows');
    expect(querySql('top_products', withRollups.dialect, params, view)).not.toContain('lake_rollup_counts');
    // Count rows are per hour: revenue over time adds them to hour buckets (ranges over 6 hours), never to minute buckets.
    expect(querySql('revenue_over_time', withRollups.dialect, params, view)).not.toContain('lake_rollup_counts');
    expect(querySql('revenue_over_time', withRollups.dialect, { fromMs: START - 17 * MINUTE, toMs: LATER }, view)).toContain('lake_rollup_counts');
    const [split] = await withRollups.run(`SELECT count(CASE WHEN counted THEN 1 END) AS counted, count(CASE WHEN NOT counted THEN 1 END) AS ids,
      (SELECT sum(sessions) FROM lake_rollup_counts) AS counted_sessions, (SELECT count(*) FROM lake_rollup_id_rows) AS id_rows FROM lake_rollup_sessions`);
    expect(split!.counted as number).toBeGreaterThan(1_000);
    expect(split!.ids as number).toBeGreaterThan(100);
    expect(split!.id_rows).toBe(split!.ids);
    expect(split!.counted_sessions as number).toBeGreaterThan(500);
  });

  it.each<Record<string, string>>([{}, { device: 'bot' }])('equal the raw answers over the whole run, with %j', async (filter) => {
    await expectSameAnswers({ from: String(START - 17 * MINUTE), to: String(LATER), ...filter });
  });

  it.each(cases(7, 24).map((c) => [JSON.stringify(c), c]))('equal the raw answers over %s', async (_name, params) => {
    await expectSameAnswers(params);
  });
});

describe("the compactor's rollups", () => {
  beforeAll(async () => {
    const result = await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, sliceRows: SLICE_ROWS, now: () => LATER });
    expect(result.hoursCompacted).toBeGreaterThanOrEqual(5);
    expect(result.slices).toBeGreaterThanOrEqual(4);
    expect(result.peakSliceRows).toBeLessThanOrEqual(SLICE_ROWS);
    await refresh();
  }, 120_000);

  it('hold, for each hour, exactly the rows the local engine groups from its events', async () => {
    const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
    const hours = Object.entries(manifest.hours);
    expect(hours.length).toBeGreaterThanOrEqual(5);
    for (const [hour, entry] of hours) {
      const predicate = hour.split('/').map((part) => `${part.split('=')[0]} = '${part.split('=')[1]}'`).join(' AND ');
      for (const name of ROLLUP_NAMES) {
        // Revenue rounded: sums of doubles differ in the last bits with the order they are added in.
        const columns = ROLLUP_COLUMNS[name].map((c) => (c.type === 'double' ? `round(${c.name}, 6) AS ${c.name}` : c.name)).join(', ');
        const file = `'${join(dir, entry.rollups![name])}'`;
        const local = `SELECT ${columns} FROM lake_rollup_${name} WHERE ${predicate}`;
        const compacted = `SELECT ${columns} FROM read_parquet(${file})`;
        const [count] = await withRollups.run(`SELECT (SELECT count(*) FROM (${local})) AS local, (SELECT count(*) FROM (${compacted})) AS compacted`);
        expect(count!.compacted, `${name} ${hour}`).toBe(count!.local);
        expect(count!.local as number, `${name} ${hour}`).toBeGreaterThan(0);
        expect(await withRollups.run(`(${local}) EXCEPT ALL (${compacted})`), `${name} ${hour}`).toEqual([]);
        expect(await withRollups.run(`(${compacted}) EXCEPT ALL (${local})`), `${name} ${hour}`).toEqual([]);
      }
    }
  });

  it.each(cases(11, 8).map((c) => [JSON.stringify(c), c]))('leave the local answers equal to the raw ones over %s', async (_name, params) => {
    await expectSameAnswers(params);
  });

  it('count a late event for a rolled-up hour once, in the local engine and in the next compaction', async () => {
    // Re-sent copies of events already rolled up, and events never seen, all for the second hour.
    const copies = sent.filter((r) => r.event && !r.injected && r.event.event_time >= START + HOUR).slice(0, 10);
    const sim = new ShopperSimulator({ seed: 77, startTimeMs: START + HOUR, eventsPerSecond: 1, dailyCurve: false, warmStart: false });
    const fresh = Array.from({ length: 20 }, () => asSiteTraffic(sim.nextRecord()));
    await consume([...copies, ...fresh], 'late.resend', LATER);
    await refresh();
    for (const params of cases(13, 4)) await expectSameAnswers(params);
    const whole = { from: String(START - 17 * MINUTE), to: String(LATER) };
    await expectSameAnswers(whole);

    await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, sliceRows: SLICE_ROWS, now: () => LATER + HOUR });
    await refresh();
    await expectSameAnswers(whole);
  }, 60_000);

  it('adds rollups to an hour compacted before they existed, as a new generation', async () => {
    const stored = (await store.get(MANIFEST_KEY))!;
    const manifest = parseManifest(stored.body);
    const [hour, entry] = Object.entries(manifest.hours)[0]!;
    const { rollups: _, ...withoutRollups } = entry;
    const old = { ...manifest, hours: { ...manifest.hours, [hour]: withoutRollups } };
    await store.put(MANIFEST_KEY, Buffer.from(JSON.stringify(old)), 'application/json', { ifMatch: stored.etag });

    const result = await compactLake({ store, timing: DEFAULT_LAKE_TIMING, retentionMs: HOUR, maxHourBytes: 2 ** 30, sliceRows: SLICE_ROWS, now: () => LATER + 2 * HOUR });
    expect(result.hoursCompacted).toBe(1);
    const after = parseManifest((await store.get(MANIFEST_KEY))?.body).hours[hour]!;
    expect(after.generation).toBe(entry.generation + 1);
    expect(Object.keys(after.rollups ?? {}).sort()).toEqual([...ROLLUP_NAMES].sort());
    expect(after.rows).toBe(entry.rows);
  }, 60_000);

  it('stay exact when a counted user comes back in another hour, a counted session goes on past its hour, an order goes on in another session, or a cart addition carries revenue', async () => {
    await refresh(); // what the tests before left (the compactor's deletions), so only these events change the lake below
    const counted = await withRollups.run(`SELECT DISTINCT user_id, session_id FROM lake_rollup_sessions WHERE counted AND hour = '21' ORDER BY session_id LIMIT 2`);
    expect(counted).toHaveLength(2);
    const [back, goesOn] = counted.map((row) => sent.find((r) => r.event?.session_id === row.session_id)!.event!);
    const [ordered] = await withRollups.run(`SELECT user_id, order_id FROM lake_rollup_sessions WHERE counted AND hour = '21' AND order_minute IS NOT NULL ORDER BY session_id DESC LIMIT 1`);
    const purchase = sent.find((r) => r.event?.order_id === ordered!.order_id && r.event?.event_type === 'purchase')!.event!;
    const [carting] = await withRollups.run(`SELECT session_id FROM lake_rollup_sessions WHERE counted AND hour = '21' AND order_minute IS NOT NULL ORDER BY session_id LIMIT 1 OFFSET 3`);
    const cartAdd = sent.find((r) => r.event?.session_id === carting!.session_id && r.event?.event_type === 'add_to_cart')!.event!;
    const again = (event: ClickstreamEvent, changes: Partial<ClickstreamEvent>): SimulatedRecord => {
      const copy = { ...event, event_id: randomUUID(), ...changes };
      return { key: copy.session_id, value: Buffer.from(JSON.stringify(copy)), event: copy };
    };
    await consume(
      [
        // A new visit two hours later (an hour rolled up too), and the same visit in an hour not rolled up yet.
        again(back!, { session_id: `${back!.session_id}-back`, event_time: START + 3 * HOUR + 40 * MINUTE }),
        again(goesOn!, { event_time: END + 30 * MINUTE }),
        // Another line of the order, sent from another visit in the same hour: the hour is counted again after
        // this file, and the user, whose order is now in two sessions, must not be counted (its order would count twice).
        again(purchase, { session_id: `${purchase.session_id}-again` }),
        // A cart addition that carries an order and revenue (the schema allows it; a real tracker may send it), in a
        // visit that bought: its user stays counted, and its revenue counts in kpis but not in revenue over time, which sums purchases.
        again(cartAdd, { order_id: `${cartAdd.session_id}-order`, revenue: 12.5 }),
      ],
      'returning',
      LATER,
    );
    await refresh();
    const users = [...counted, ordered!].map((row) => `'${String(row.user_id)}'`).join(', ');
    expect(await withRollups.run(`SELECT user_id FROM lake_rollup_sessions WHERE counted AND user_id IN (${users})`)).toEqual([]);
    expect(await withRollups.run(`SELECT revenue FROM lake_rollup_sessions WHERE counted AND order_id = '${cartAdd.session_id}-order'`)).toEqual([{ revenue: 12.5 }]);
    const idRows = `SELECT * EXCLUDE (counted) FROM lake_rollup_sessions WHERE NOT counted`;
    expect(await withRollups.run(`(${idRows}) EXCEPT ALL (SELECT * FROM lake_rollup_id_rows)`)).toEqual([]);
    expect(await withRollups.run(`(SELECT * FROM lake_rollup_id_rows) EXCEPT ALL (${idRows})`)).toEqual([]);
    await expectSameAnswers({ from: String(START - 17 * MINUTE), to: String(LATER) });
    for (const params of cases(17, 6)) await expectSameAnswers(params);
  });
});
