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
 * for hours bigger than its memory. The local engine's counts that stand for ids (regular-counts.ts) are
 * checked against crafted arrivals that share ids with counted users (at random, and case by case as the
 * schema allows them), on a second lake whose clock moves while events arrive, and by an invariant: no
 * counted user breaks the rule that made it regular.
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
import { dashboardSql, suffixOf } from '../../lambdas/query/dashboard-statement.ts';
import { QueryApi, type QueryEngine } from '../../lambdas/query/query-api.ts';
import { DEFAULT_VIEW_ROLLUPS, defaultViewRows, ROLLUP_COLUMNS, ROLLUP_NAMES, SUFFIX_ONLY } from '../../lambdas/query/rollups.ts';
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
/** The files the lake held before any test changed it. */
let initialFiles: readonly string[];

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
  initialFiles = (await feed.changes()).added;
  withRollups = await DuckDbLake.open(dir, { now: () => LATER, files: initialFiles, suffixRollups: true });
  withoutRollups = await DuckDbLake.open(dir, { rollups: false, files: initialFiles });
}, 120_000);

afterAll(async () => {
  await withRollups?.close();
  await withoutRollups?.close();
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

/** Every named query's answer from both engines (by default the shared lake's, at LATER) for these parameters, compared. */
async function expectSameAnswers(params: Record<string, string>, engines: { rolledUp: DuckDbLake; raw: DuckDbLake; now: number } = { rolledUp: withRollups, raw: withoutRollups, now: LATER }): Promise<void> {
  const [a, b] = [new QueryApi({ engine: engines.rolledUp, now: () => engines.now }), new QueryApi({ engine: engines.raw, now: () => engines.now })];
  for (const name of QUERY_NAMES) {
    const [x, y] = await Promise.all([a.handle(name, params), b.handle(name, params)]);
    expect([x.statusCode, y.statusCode], `${name}: ${x.body}`).toEqual([200, 200]);
    const strip = (body: string) => {
      const { generatedAt: _, ...rest } = JSON.parse(body) as Record<string, unknown>;
      return rest;
    };
    expect(answerDifferences(strip(x.body), strip(y.body), name), `${name} ${JSON.stringify(params)} at ${engines.now}`).toEqual([]);
  }
  // The default view's rows are, hour by hour, their rollup's regrouped: none missing, none left over.
  for (const rollup of DEFAULT_VIEW_ROLLUPS) {
    // Sums of doubles compared to a millionth: the two sums may add in another order.
    const rounded = (relation: string) => `SELECT * ${ROLLUP_COLUMNS[rollup].some((c) => c.name === 'revenue') ? 'REPLACE (round(revenue, 6) AS revenue) ' : ''}FROM (${relation})`;
    const regrouped = rounded(defaultViewRows(rollup, engines.rolledUp.dialect.rollupTable(rollup), ['year', 'month', 'day', 'hour']));
    const kept = rounded(`SELECT * FROM ${engines.rolledUp.dialect.defaultViewTable!(rollup)}`);
    const differing = await engines.rolledUp.run(`SELECT count(*) AS n FROM ((${regrouped} EXCEPT ALL ${kept}) UNION ALL (${kept} EXCEPT ALL ${regrouped}))`);
    expect(differing, `the ${rollup} rollup's default view at ${engines.now}`).toEqual([{ n: 0 }]);
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

  it("answer the default view's products and activity from their rows without the device and source, a filter from the rollup's own", async () => {
    const view = await withRollups.lakeView();
    const params = { fromMs: START - 17 * MINUTE + HOUR, toMs: START - 17 * MINUTE + 4 * HOUR };
    for (const [query, rollup] of [['top_products', 'products'], ['top_categories', 'products'], ['events_per_minute', 'activity'], ['freshness', 'activity']] as const) {
      expect(querySql(query, withRollups.dialect, params, view)).toContain(`FROM lake_rollup_${rollup}_default_view`);
      for (const filter of [{ device: 'mobile' }, { device: 'bot' }, { source: 'email' }] as const) {
        const sql = querySql(query, withRollups.dialect, { ...params, ...filter }, view);
        expect(sql).toContain(`FROM lake_rollup_${rollup}\n`);
        expect(sql).not.toContain('_default_view');
      }
      const rows = async (table: string) => (await withRollups.run(`SELECT count(*) AS n FROM ${table}`))[0]!.n as number;
      expect(await rows(`lake_rollup_${rollup}_default_view`)).toBeLessThan(await rows(`lake_rollup_${rollup}`));
    }
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

  it("keep by default none of what only the dashboard's one statement reads, and answer the same without it", async () => {
    // The lake as the engines above loaded it: no test before this one changes it.
    const plain = await DuckDbLake.open(dir, { now: () => LATER, files: initialFiles });
    try {
      const tables = await plain.run(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'lake_rollup_%' ORDER BY 1`);
      expect(tables.map((t) => t.table_name)).not.toContain('lake_rollup_product_minutes');
      expect(tables.map((t) => t.table_name)).toContain('lake_rollup_products');
      const columns = (await plain.run(`SELECT column_name FROM information_schema.columns WHERE table_name = 'lake_rollup_sessions'`)).map((c) => c.column_name);
      for (const column of SUFFIX_ONLY.columns) expect(columns).not.toContain(column);
      expect(columns).toContain('session_id');
      await expectSameAnswers({ from: String(START - 17 * MINUTE), to: String(LATER) }, { rolledUp: plain, raw: withoutRollups, now: LATER });
    } finally {
      await plain.close();
    }
  });
});

/** The local engine as an engine without count rows sees it: the dashboard in one statement (dashboard-statement.ts), as Athena runs it. */
const inOneStatement = (lake: DuckDbLake): QueryEngine => ({ dialect: { ...lake.dialect, counts: undefined }, run: (sql) => lake.run(sql), lakeView: () => lake.lakeView() });

/** The dashboard's answer in one statement over the rolled-up lake against the named queries over the raw events. */
async function expectSameDashboard(params: Record<string, string>): Promise<void> {
  const [one, each] = [new QueryApi({ engine: inOneStatement(withRollups), now: () => LATER }), new QueryApi({ engine: withoutRollups, now: () => LATER })];
  const [x, y] = await Promise.all([one.handleDashboard(params), each.handleDashboard(params)]);
  expect([x.statusCode, y.statusCode], x.body).toEqual([200, 200]);
  const strip = (body: string) => JSON.parse(body.replace(/"generatedAt":"[^"]*"/g, '"generatedAt":null')) as unknown;
  expect(answerDifferences(strip(x.body), strip(y.body), 'dashboard'), JSON.stringify(params)).toEqual([]);
}

describe('the dashboard in one statement', () => {
  it('reads each table once: the events with one window, each rollup for its whole hours', async () => {
    const view = await withRollups.lakeView();
    const params = { fromMs: START - 17 * MINUTE, toMs: LATER };
    const sql = dashboardSql({ ...withRollups.dialect, counts: undefined, deduplicated: false }, params, view);
    for (const table of ['lake_events', 'lake_rollup_sessions', 'lake_rollup_activity', 'lake_rollup_products']) expect(sql.split(`FROM ${table}`)).toHaveLength(2);
    expect(sql.split('row_number() OVER (PARTITION BY event_id')).toHaveLength(2);
  });

  it.each<Record<string, string>>([{}, { device: 'bot' }, { country: 'US' }])('equals the named queries over the whole run, with %j', async (filter) => {
    await expectSameDashboard({ from: String(START - 17 * MINUTE), to: String(LATER), ...filter });
  });

  it.each(cases(13, 16).map((c) => [JSON.stringify(c), c]))('equals the named queries over %s', async (_name, params) => {
    await expectSameDashboard(params);
  });

  // A range's partial first hour: from the rollups' last times and minutes, and its start's minute from the events.
  const hour = START - 17 * MINUTE + HOUR;
  it.each<[string, number, number, Record<string, string>]>([
    ['a whole minute, to the end of the run', hour + 20 * MINUTE, LATER, {}],
    ['half a minute (the hosted page aligns to 30 s), over an hour', hour + 20 * MINUTE + 30_000, hour + 80 * MINUTE + 30_000, {}],
    ['its first millisecond on', hour + 1, hour + 2 * HOUR, {}],
  ])('answers a range starting inside a rolled-up hour from its rollups (%s), equal to the named queries', async (_name, from, to, filter) => {
    const view = await withRollups.lakeView();
    const params = { fromMs: from, toMs: to, ...filter };
    expect(suffixOf(params, view)).toEqual({ hour, minuteMs: Math.ceil(from / MINUTE) * MINUTE });
    const sql = dashboardSql({ ...withRollups.dialect, counts: undefined }, params, view);
    expect(sql).toContain('FROM lake_rollup_product_minutes');
    expect(sql).toContain(`last_time >= ${withRollups.dialect.timestamp(Math.ceil(from / MINUTE) * MINUTE)}`);
    await expectSameDashboard({ from: String(from), to: String(to), ...filter });
  });

  it.each<[string, number, number, Record<string, string>]>([
    ['a device filter, which the per-minute products do not answer', hour + 20 * MINUTE, LATER, { device: 'mobile' }],
    ['the bots alone', hour + 20 * MINUTE, LATER, { device: 'bot' }],
    ['a source filter', hour + 20 * MINUTE, LATER, { source: 'email' }],
    ['a country filter, which the per-minute rollups do not answer', hour + 35 * MINUTE + 30_000, LATER, { country: 'US' }],
    ['a range that ends inside the hour', hour + 20 * MINUTE, hour + 50 * MINUTE, {}],
    ['a start inside its last minute, which leaves no whole minute of it', hour + 59 * MINUTE + 1_234, hour + 61 * MINUTE, {}],
  ])('reads the partial first hour from its events with %s, equal to the named queries', async (_name, from, to, filter) => {
    const params = { fromMs: from, toMs: to, ...filter };
    expect(suffixOf(params, await withRollups.lakeView())).toBeUndefined();
    await expectSameDashboard({ from: String(from), to: String(to), ...filter });
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
        const file = `'${join(dir, entry.rollups![name]!)}'`;
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
    expect(cartAdd.revenue ?? null).toBeNull();
    const hour21 = START - 17 * MINUTE + HOUR;
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
        // A visit whose cart addition with revenue comes ten minutes before its next event: a range from between them
        // holds the visit but not that revenue (the dashboard's statement reads it from the rollups: rows with revenue lie in one minute).
        again(cartAdd, { session_id: `${cartAdd.session_id}-straddle`, event_time: hour21 + 10 * MINUTE + 5_000, revenue: 7.25 }),
        again(cartAdd, { session_id: `${cartAdd.session_id}-straddle`, event_time: hour21 + 20 * MINUTE }),
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
    expect(suffixOf({ fromMs: hour21 + 15 * MINUTE, toMs: LATER }, await withRollups.lakeView())).toBeDefined();
    await expectSameDashboard({ from: String(hour21 + 15 * MINUTE), to: String(LATER) });
  });
});

/** A copy of an event with a new id (unless changes give one) and these changes, as the consumer receives it. */
function craft(event: ClickstreamEvent, changes: Record<string, unknown>): SimulatedRecord {
  const copy = { ...event, event_id: randomUUID(), ...changes } as ClickstreamEvent;
  for (const [k, v] of Object.entries(copy)) if (v === undefined) delete (copy as Record<string, unknown>)[k];
  return { key: copy.session_id, value: Buffer.from(JSON.stringify(copy)), event: copy };
}

/** A sessions rollup row as the crafted arrivals read it. */
type CountedRow = { user_id: string; session_id: string; order_id: string | null; year: number; month: number; day: number; hour: number };

/** The fields that make an event its user's (ids and keys). */
function keysOf(e: ClickstreamEvent): Partial<ClickstreamEvent> {
  return { schema_version: e.schema_version, user_id: e.user_id, session_id: e.session_id, device_type: e.device_type ?? null, traffic_source: e.traffic_source, user_country: e.user_country ?? null, user_age: e.user_age ?? null, user_gender: e.user_gender ?? null };
}

/** Rows breaking what a counted user must be (regular-counts.ts): any is a reason a count can be wrong. */
async function countedButIrregular(): Promise<unknown[]> {
  return withRollups.run(`WITH cs AS (SELECT DISTINCT session_id, user_id FROM lake_rollup_sessions WHERE counted),
    co AS (SELECT DISTINCT order_id, user_id, session_id FROM lake_rollup_sessions WHERE counted AND order_id IS NOT NULL)
    SELECT 'user' AS kind, user_id AS id FROM lake_events WHERE user_id IN (SELECT user_id FROM cs) GROUP BY user_id
      HAVING count(DISTINCT (year, month, day, hour, device_type, traffic_source, user_country, user_age, user_gender)) > 1
    UNION ALL SELECT 'session', e.session_id FROM lake_events e JOIN cs USING (session_id) WHERE e.user_id <> cs.user_id
    UNION ALL SELECT 'order', e.order_id FROM lake_events e JOIN co USING (order_id) WHERE e.user_id <> co.user_id OR e.session_id <> co.session_id
    UNION ALL SELECT 'counts', NULL FROM (SELECT sum(sessions) s, sum(users) u FROM lake_rollup_counts)
      WHERE s IS DISTINCT FROM (SELECT count(DISTINCT session_id) FROM lake_rollup_sessions WHERE counted)
         OR u IS DISTINCT FROM (SELECT count(DISTINCT user_id) FROM lake_rollup_sessions WHERE counted)`);
}

describe('counts that stand for ids, against crafted arrivals', () => {
  it('stay exact over random arrivals that share ids with counted users', async () => {
    await refresh();
    const rng = new Rng(4242);
    const byType = (t: string) => sent.filter((r) => r.event?.event_type === t).map((r) => r.event!);
    const templates = { page_view: byType('page_view'), product_view: byType('product_view'), add_to_cart: byType('add_to_cart'), purchase: byType('purchase'), checkout: byType('checkout') };
    const hourStart = (r: Record<string, unknown>) => Date.UTC(Number(r.year), Number(r.month) - 1, Number(r.day), Number(r.hour));
    const previous: SimulatedRecord[][] = [];
    for (let round = 0; round < 6; round++) {
      const counted = (await withRollups.run(`SELECT user_id, session_id, order_id, year, month, day, hour FROM lake_rollup_sessions WHERE counted ORDER BY hash(session_id || '${round}') LIMIT 12`)) as CountedRow[];
      const records: SimulatedRecord[] = [];
      const when = (base: number) =>
        rng.pick([
          base + rng.int(0, 3_599_999), // its own hour
          base + HOUR, // exactly the next hour's first millisecond
          base - 1, // the previous hour's last
          base + HOUR - 1, // its own hour's last
          START + rng.int(0, 4) * HOUR + rng.int(0, 59) * MINUTE, // another rolled-up hour
          LATER + rng.int(0, 10) * MINUTE, // an hour not rolled up
          START - rng.int(1, 3) * 24 * HOUR + rng.int(0, 3) * HOUR, // days before: a new hour, rolled up at once
        ]);
      for (const row of counted) {
        const base = hourStart(row);
        const own = sent.find((r) => r.event?.session_id === row.session_id)?.event;
        if (!own) continue;
        const other = rng.pick(templates[rng.pick(['page_view', 'product_view', 'add_to_cart', 'purchase', 'checkout'] as const)]);
        const kind = rng.int(0, 12);
        const sameHour = base + rng.int(0, 3_599_999);
        const t = when(base);
        if (kind === 0) records.push(craft(own, { event_time: t })); // the user again, same session
        else if (kind === 1) records.push(craft(own, { session_id: `${row.session_id}-x${round}`, event_time: t })); // another visit
        else if (kind === 2) records.push(craft(other, { session_id: row.session_id, event_time: t })); // another user in the session
        else if (kind === 3 && row.order_id) records.push(craft(other, { order_id: row.order_id, revenue: other.revenue ?? 3.25, event_time: t })); // its order elsewhere
        else if (kind === 4) records.push(craft(own, { schema_version: 2, device_type: rng.pick([null, 'bot', 'tablet', 'mobile']), event_time: base + rng.int(0, 3_599_999) })); // another device, same hour
        else if (kind === 5) records.push(craft(own, { schema_version: 2, user_country: rng.pick([null, 'ZZ', 'US']), user_age: rng.pick([null, 77]), event_time: base + rng.int(0, 3_599_999) }));
        else if (kind === 6) records.push(craft(own, { event_id: own.event_id, user_id: `copy-${round}`, session_id: `copy-${round}` })); // a re-sent copy that differs
        else if (kind === 7) records.push(craft(own, { event_id: own.event_id, event_time: t })); // a re-sent copy at another time
        else if (kind === 8) {
          // A new user, two visits in one rolled-up hour at its edges, unknown keys, an order on a cart addition: counted, then back later.
          const user = `new-${round}-${rng.int(0, 1e6)}`;
          const h = rng.chance(0.3) ? START - 17 * MINUTE - 2 * 24 * HOUR : START - 17 * MINUTE + rng.int(1, 4) * HOUR;
          const keys = { schema_version: 2, user_id: user, user_age: null, user_gender: null, user_country: rng.pick([null, 'ZZ']), device_type: rng.pick([null, 'bot', 'mobile']) } as const;
          records.push(craft(templates.page_view[round]!, { ...keys, session_id: `${user}-a`, event_time: h }));
          records.push(craft(templates.add_to_cart[round]!, { ...keys, session_id: `${user}-a`, order_id: `${user}-o`, revenue: 5, event_time: h + 1000 }));
          records.push(craft(templates.purchase[round]!, { ...keys, session_id: `${user}-a`, order_id: `${user}-o`, event_time: h + 2000 }));
          records.push(craft(templates.purchase[round + 1]!, { ...keys, session_id: `${user}-b`, order_id: `${user}-p`, event_time: h + HOUR - 1 }));
        } else if (kind === 10 && row.order_id) records.push(craft(templates.purchase[round]!, { ...keysOf(own), session_id: `${row.session_id}-y${round}`, order_id: row.order_id, event_time: sameHour })); // its order in another own visit
        else if (kind === 11) records.push(craft(templates.purchase[round + 2]!, { ...keysOf(own), session_id: row.session_id, event_time: sameHour })); // an order of its own, same visit
        else if (kind === 12) records.push(craft(templates.add_to_cart[round + 3]!, { ...keysOf(own), session_id: `${row.session_id}-z${round}`, order_id: row.order_id ? row.order_id : undefined, revenue: 2, event_time: sameHour })); // a cart addition in another own visit
        else records.push(craft(own, { order_id: `${row.session_id}-o${round}`, revenue: 1.5, event_type: own.event_type, event_time: base + rng.int(0, 3_599_999) }));
      }
      // New users of earlier rounds come back; some earlier rounds are delivered again with other records (files replaced and removed).
      const users = [...new Set(previous.flat().map((r) => r.event!.user_id).filter((u) => u.startsWith('new-')))];
      for (const user of users.filter(() => rng.chance(0.3))) {
        const back = previous.flat().find((r) => r.event!.user_id === user)!.event!;
        records.push(craft(back, { event_time: when(Math.floor(back.event_time / HOUR) * HOUR) }));
      }
      const topic = `fuzz-${round}`;
      await consume(records, topic, rng.chance(0.5) ? undefined : LATER);
      if (round > 0 && rng.chance(0.5)) {
        const again = previous[round - 1]!.filter(() => rng.chance(0.6));
        if (again.length > 0) await consume(again, `fuzz-${round - 1}`, rng.chance(0.5) ? undefined : LATER);
      }
      previous.push(records);
      await refresh();
      expect(await countedButIrregular(), `round ${round}`).toEqual([]);
      await expectSameAnswers({ from: String(START - 17 * MINUTE), to: String(LATER + 30 * MINUTE) });
      await expectSameAnswers({ from: String(START - 8 * 24 * HOUR), to: String(LATER + 30 * MINUTE) });
      for (const params of cases(100 + round, 4)) await expectSameAnswers(params);
      await expectSameAnswers({ from: String(START - 17 * MINUTE + HOUR), to: String(START - 17 * MINUTE + 4 * HOUR), country: 'ZZ' });
      await expectSameAnswers({ from: String(START - 17 * MINUTE + HOUR), to: String(START - 17 * MINUTE + 3 * HOUR), device: 'bot' });
    }
  }, 300_000);
});

describe('counts that stand for ids, case by case', () => {
  it('count or keep the ids of crafted users as the schema allows them, and stay exact', async () => {
    await refresh();
    const of = (t: string) => sent.find((r) => r.event?.event_type === t && r.event.schema_version === 2)!.event!;
    const [view, cart, checkout, buy] = [of('page_view'), of('add_to_cart'), of('checkout'), of('purchase')];
    const H = Date.UTC(2026, 10, 30, 22); // rolled up
    const unknown = { schema_version: 2, traffic_source: 'social', user_age: null, user_gender: null, user_country: null, device_type: null, os: null, browser: null } as const;
    const zz = { schema_version: 2, user_age: 40, user_gender: 'female', user_country: 'ZZ', device_type: 'mobile', traffic_source: 'email' } as const;
    const as = (user: string, session: string, keys: object = zz) => ({ ...keys, user_id: user, session_id: session });
    const isCounted = async (user: string) => (await withRollups.run(`SELECT count(*) AS n FROM lake_rollup_sessions WHERE counted AND user_id = '${user}'`))[0]!.n as number;
    const ranges: Record<string, string>[] = [
      { from: String(START - 17 * MINUTE), to: String(LATER + 30 * MINUTE) },
      { from: String(H), to: String(H + HOUR) },
      { from: String(H - HOUR), to: String(H + 2 * HOUR), country: 'ZZ' },
      { from: String(H - 30 * MINUTE), to: String(H + HOUR + 30 * MINUTE), country: 'ZZ' },
      { from: String(H - HOUR), to: String(H + 3 * HOUR), device: 'bot' },
      { from: String(START - 8 * 24 * HOUR), to: String(LATER) },
    ];
    const buyAs = (keys: object, order: string, t: number, revenue = 10) => craft(buy, { ...keys, order_id: order, revenue, event_time: t });
    const tieId = randomUUID();
    await consume(
      [
        // Unknown keys, two visits at the hour's first and last millisecond.
        craft(view, { ...as('cb-null', 'cb-null-a', unknown), event_time: H }),
        buyAs(as('cb-null', 'cb-null-b', unknown), 'cb-null-o', H + HOUR - 1),
        // An order on a cart addition and a checkout of the buying visit (counted), and one on a page view of another visit (not).
        craft(cart, { ...as('cb-cart', 'cb-cart-a'), order_id: 'cb-cart-o', revenue: 4, event_time: H + 10 * MINUTE }),
        craft(checkout, { ...as('cb-cart', 'cb-cart-a'), order_id: 'cb-cart-o', revenue: 6, event_time: H + 11 * MINUTE }),
        buyAs(as('cb-cart', 'cb-cart-a'), 'cb-cart-o', H + 12 * MINUTE),
        buyAs(as('cb-two', 'cb-two-a'), 'cb-two-o', H + 5 * MINUTE),
        craft(view, { ...as('cb-two', 'cb-two-b'), order_id: 'cb-two-o', event_time: H + 6 * MINUTE }),
        // A visit of two users; a user on two devices; a bot.
        buyAs(as('cb-s1', 'cb-shared'), 'cb-s1-o', H + 20 * MINUTE),
        craft(view, { ...as('cb-s2', 'cb-shared'), event_time: H + 21 * MINUTE }),
        craft(view, { ...as('cb-dev', 'cb-dev-a'), event_time: H + 22 * MINUTE }),
        buyAs(as('cb-dev', 'cb-dev-a', { ...zz, device_type: 'tablet' }), 'cb-dev-o', H + 23 * MINUTE),
        buyAs(as('cb-bot', 'cb-bot-a', { ...unknown, device_type: 'bot' }), 'cb-bot-o', H + 24 * MINUTE),
        // Two copies of one event that differ, at the same ingest time: one is kept, the same in both engines.
        craft(view, { ...as('cb-tie1', 'cb-tie1-a'), event_id: tieId, event_time: H + 30 * MINUTE }),
      ],
      'cases-1',
      LATER,
    );
    await consume([craft(view, { ...as('cb-tie2', 'cb-tie2-a', { ...zz, device_type: 'desktop' }), event_id: tieId, event_time: H + 30 * MINUTE })], 'cases-1b', LATER);
    await refresh();
    const expected = { 'cb-null': true, 'cb-cart': true, 'cb-two': false, 'cb-s1': false, 'cb-s2': false, 'cb-dev': false, 'cb-bot': true };
    for (const [user, counted] of Object.entries(expected)) expect((await isCounted(user)) > 0, user).toBe(counted);
    expect(await countedButIrregular()).toEqual([]);
    for (const params of ranges) await expectSameAnswers(params);

    // Then: re-sent copies (the same id, changed user: dropped; another hour: kept), a counted user back in an hour not rolled
    // up, one back in its own hour with another order, and an order of a counted user on an event of another user.
    await consume(
      [
        craft(buy, { ...as('cb-other', 'cb-other-a'), order_id: 'cb-cart-o', revenue: 1, event_time: H + 2 * HOUR + 5 * MINUTE }),
        craft(view, { ...as('cb-null', 'cb-null-c', unknown), event_time: LATER + 5 * MINUTE }),
        buyAs(as('cb-bot', 'cb-bot-a', { ...unknown, device_type: 'bot' }), 'cb-bot-p', H + 40 * MINUTE),
      ],
      'cases-2',
      LATER + 10 * MINUTE,
    );
    await refresh();
    for (const user of ['cb-null', 'cb-cart']) expect(await isCounted(user), user).toBe(0);
    expect(await isCounted('cb-bot')).toBeGreaterThan(0);
    expect(await countedButIrregular()).toEqual([]);
    for (const params of ranges) await expectSameAnswers(params);
  });
});

describe('re-sent copies that differ', () => {
  it('keep the same copy of an event in every engine when two differing copies arrive at the same ingest time', async () => {
    await refresh();
    const view = sent.find((r) => r.event?.event_type === 'page_view' && r.event.schema_version === 2)!.event!;
    const H = Date.UTC(2026, 10, 30, 23); // rolled up
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const copies = (device: 'mobile' | 'desktop') =>
      ids.map((id, i) => craft(view, { schema_version: 2, event_id: id, user_id: `tie-${device}-${i}`, session_id: `tie-${device}-${i}`, device_type: device, event_time: H + i * MINUTE }));
    // The same events from two sources (another Kafka partition or topic) in one consumer run: one ingest time.
    await consume(copies('mobile'), 'tie-a', LATER);
    await consume(copies('desktop'), 'tie-b', LATER);
    await refresh();
    await expectSameAnswers({ from: String(H), to: String(H + HOUR) });
  });
});

/**
 * A lake of its own, read by an engine with rollups on a clock the test moves and by one without:
 * records are delivered through the real consumer at the clock's time, and each sync applies what
 * changed to both.
 */
async function movingLake(name: string, startMs: number) {
  const directory = mkdtempSync(join(tmpdir(), `clickstream-${name}-`));
  const lakeStore = new DirectoryStore(directory);
  const lakeFeed = new DirectoryFeed(lakeStore);
  const clock = { now: startMs };
  const live = await DuckDbLake.open(directory, { now: () => clock.now });
  const raw = await DuckDbLake.open(directory, { rollups: false });
  return {
    clock,
    live,
    raw,
    /** The records, from source offset `first` on, in consumer batches of `size`. */
    async deliver(records: readonly SimulatedRecord[], topic: string, first = 0, size = records.length || 1): Promise<void> {
      for (let i = 0; i < records.length; i += size) {
        const batch = records.slice(i, i + size);
        await consumeRecords(lakeStore, batch.map((r, j) => ({ topic, partition: 0, offset: String(first + i + j), value: r.value })), clock.now, encodeEitherVersion);
      }
    },
    async sync(): Promise<void> {
      const changes = await lakeFeed.changes();
      await live.apply(changes);
      await raw.apply(changes);
    },
    same: (params: Record<string, string>) => expectSameAnswers(params, { rolledUp: live, raw, now: clock.now }),
    async close(): Promise<void> {
      await live.close();
      await raw.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

describe('counts as hours roll up while events arrive', () => {
  it('keep a whole hour exact across its end, while syncs every 4 s bring its last seconds and the next hour, whose sessions go on from it', async () => {
    const H = Date.UTC(2026, 11, 1, 10);
    const lake = await movingLake('boundary', H - 20 * MINUTE);
    try {
      const sim = new ShopperSimulator({ seed: 12, startTimeMs: H - HOUR - 10 * MINUTE, eventsPerSecond: 15, dailyCurve: false, warmStart: true });
      let pending = sim.nextRecord();
      let offset = 0;
      for (let step = 0; step < 60; step++) {
        lake.clock.now += step < 10 ? 2 * MINUTE : 4_000;
        if (step === 10) lake.clock.now = H - 3_000;
        const batch: SimulatedRecord[] = [];
        // Delivered with a lag of 0-6 s: a record is sent once its time is 3 s past.
        while (!pending.event || pending.event.event_time < lake.clock.now - 3_000) {
          batch.push(pending);
          pending = sim.nextRecord();
        }
        await lake.deliver(batch, 'b', offset, 300);
        offset += batch.length;
        await lake.sync();
        if (lake.clock.now >= H) await lake.same({ from: String(H - HOUR), to: String(H) });
      }
      expect((await lake.live.lakeView()).rollups.has(H - HOUR)).toBe(true);
    } finally {
      await lake.close();
    }
  }, 300_000);

  it('roll up an hour once a sync after its end brings it nothing, before the compactor may touch it, and count its stragglers once', async () => {
    const H = Date.UTC(2026, 11, 1, 9);
    const lake = await movingLake('ended', H + HOUR + 30_000);
    try {
      const sim = new ShopperSimulator({ seed: 41, startTimeMs: H - 20 * MINUTE, eventsPerSecond: 1, dailyCurve: false, warmStart: true });
      const records: SimulatedRecord[] = [];
      for (let r = sim.nextRecord(); !r.event || r.event.event_time < H + HOUR + 20 * MINUTE; r = sim.nextRecord()) records.push(r);
      const before = (t: number) => records.filter((r) => r.event && r.event.event_time < t);
      const stragglers = records.filter((r) => r.event && r.event.event_time >= H + HOUR - 5 * MINUTE && r.event.event_time < H + HOUR);
      const arrive = async (batch: readonly SimulatedRecord[], topic: string) => {
        await lake.deliver(batch, topic);
        await lake.sync();
      };
      // Half a minute after the hour's end, without its last five minutes: rolled up at the first sync that brings it nothing.
      await arrive(before(H + HOUR - 5 * MINUTE), 'on-time');
      expect((await lake.live.lakeView()).rollups.has(H)).toBe(false);
      await lake.live.apply({ added: [], changed: [], removed: [] });
      expect((await lake.live.lakeView()).rollups.has(H)).toBe(true);
      await lake.same({ from: String(H - 10 * MINUTE), to: String(lake.clock.now) });
      // Its last five minutes arrive later (still on time for its raw partition), and the next hour goes on.
      lake.clock.now = H + HOUR + 4 * MINUTE;
      await arrive(stragglers, 'stragglers');
      lake.clock.now = H + HOUR + 21 * MINUTE;
      await arrive(before(lake.clock.now).filter((r) => r.event!.event_time >= H + HOUR), 'next-hour');
      await lake.same({ from: String(H), to: String(H + HOUR) });
      for (const to of [H + HOUR, H + HOUR + 20 * MINUTE]) {
        await lake.same({ from: String(H - 10 * MINUTE), to: String(to) });
        await lake.same({ from: String(H), to: String(to), device: 'mobile' });
      }
      const [inHour] = await lake.live.run(`SELECT count(*) AS n FROM lake_events WHERE event_time >= TIMESTAMP '2026-12-01 09:55:00' AND event_time < TIMESTAMP '2026-12-01 10:00:00'`);
      expect(Number(inHour!.n)).toBeGreaterThan(100);
      // Counted again after its stragglers: its regular users stand as numbers, not ids.
      const [counts] = await lake.live.run(`SELECT count(*) AS n FROM lake_rollup_counts WHERE day = 1 AND hour = 9`);
      expect(Number(counts!.n)).toBeGreaterThan(0);
    } finally {
      await lake.close();
    }
  }, 60_000);

  it('stay exact as the clock moves, with crafted arrivals and re-deliveries', async () => {
    const lake = await movingLake('live', START);
    const { clock, live } = lake;
    try {
      const rng = new Rng(5);
      const sim = new ShopperSimulator({ seed: rng.int(1, 1e6), startTimeMs: START, eventsPerSecond: 1, dailyCurve: false, warmStart: true, inject: { duplicates: 0.05, late: 0.03, malformed: 0 } });
      let pending = sim.nextRecord();
      const seen: ClickstreamEvent[] = [];
      let offset = 0;
      let last: { records: SimulatedRecord[]; first: number } | undefined;
      for (let step = 0; step < 14; step++) {
        clock.now += 13 * MINUTE;
        const records: SimulatedRecord[] = [];
        while (!pending.event || pending.event.event_time < clock.now - MINUTE) {
          const r = asSiteTraffic(pending);
          if (r.event) seen.push(r.event);
          records.push(r);
          pending = sim.nextRecord();
        }
        const counted = (await live.run(`SELECT user_id, session_id, order_id, year, month, day, hour FROM lake_rollup_sessions WHERE counted ORDER BY hash(session_id || '${step}') LIMIT 10`)) as CountedRow[];
        for (const row of counted) {
          const own = seen.find((e) => e.session_id === row.session_id);
          if (!own) continue;
          const base = Date.UTC(Number(row.year), Number(row.month) - 1, Number(row.day), Number(row.hour));
          const t = Math.min(clock.now - 1, rng.pick([base + HOUR, base - 1, base + rng.int(0, 3_599_999), clock.now - rng.int(1, 30) * MINUTE, START + rng.int(0, 3_599_999)]));
          const other = rng.pick(seen);
          const kind = rng.int(0, 5);
          if (kind === 0) records.push(craft(own, { event_time: t }));
          else if (kind === 1) records.push(craft(other, { session_id: row.session_id, event_time: t }));
          else if (kind === 2 && row.order_id) records.push(craft(other, { order_id: row.order_id, revenue: other.revenue ?? 1, event_time: t }));
          else if (kind === 3) records.push(craft(own, { event_id: own.event_id, user_id: `copy-${step}` }));
          else if (kind === 4) records.push(craft(own, { schema_version: 2, device_type: null, event_time: base + rng.int(0, 3_599_999) }));
          else records.push(craft(own, { session_id: `${row.session_id}-n${step}`, event_time: t }));
        }
        await lake.deliver(records, 'live', offset, rng.int(50, 400));
        // Sometimes the same records are delivered again with other batch boundaries (files replaced and removed).
        if (last && rng.chance(0.3)) await lake.deliver(last.records, 'live', last.first, rng.int(30, 500));
        last = { records, first: offset };
        offset += records.length;
        await lake.sync();
        await lake.same({ from: String(START - HOUR), to: String(clock.now) });
        for (let k = 0; k < 3; k++) {
          const from = START + rng.int(0, Math.max(1, Math.floor((clock.now - START) / 1000))) * 1000;
          const to = Math.min(clock.now, from + rng.int(60, 8 * 3_600) * 1000);
          if (to > from) await lake.same({ from: String(from), to: String(to), ...(rng.chance(0.3) && { device: rng.pick(DEVICES) }), ...(rng.chance(0.3) && { country: rng.pick(['US', 'GB', 'DE']) }) });
        }
      }
      const [used] = await live.run(`SELECT count(*) AS n FROM lake_rollup_counts`);
      expect(used!.n as number).toBeGreaterThan(100);
    } finally {
      await lake.close();
    }
  }, 300_000);
});
