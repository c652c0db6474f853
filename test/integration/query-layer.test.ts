/**
 * Every named query, run by DuckDB over real Parquet written to MinIO by the
 * consumer core, against the same figures computed here in plain TypeScript from
 * the events the simulator produced (not with SQL). The events are those of a lake
 * that lived through schema v2 (test/site-traffic.ts): the first hour v1 events in
 * files the v1 consumer wrote (demographics and device required), the second a real
 * site's v2 events with unknown values and bots; unknown values count as "unknown",
 * and bots only when asked for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClickstreamEvent } from '../../lambdas/common/event-schema.ts';
import { consumeRecords } from '../../lambdas/consumer/consume-records.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { duckdbDialect } from '../../lambdas/query/dialect.ts';
import { QUERY_NAMES, splitRange } from '../../lambdas/query/named-queries.ts';
import { QueryApi, type Row } from '../../lambdas/query/query-api.ts';
import { ShopperSimulator, type SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { asSiteTraffic, encodeEitherVersion } from '../site-traffic.ts';
import { DuckDbLake } from '../../local/lake/duckdb-lake.ts';
import { LakeMirror } from '../../local/lake/lake-mirror.ts';
import { localObjectStore, localS3Client } from '../../local/services/minio.ts';
import { rawEventRows } from './helpers.ts';

const config = inject('config');
const START = Date.UTC(2026, 10, 20, 10);
const INGEST = Date.UTC(2026, 10, 20, 12, 30);
/**
 * Two windows: one inside the hours, read from the events; one holding a whole hour, which the
 * local engine answers from its rollups (the hours are long settled), and its edge from the events.
 */
const WINDOWS = [
  { name: 'across an hour boundary', from: Date.UTC(2026, 10, 20, 10, 30), to: Date.UTC(2026, 10, 20, 11, 30), rolledUp: 0 },
  { name: 'a rolled-up hour and a part of another', from: Date.UTC(2026, 10, 20, 10, 40, 30), to: Date.UTC(2026, 10, 20, 12), rolledUp: 1 },
] as const;
let FROM: number = WINDOWS[0].from;
let TO: number = WINDOWS[0].to;

let lake: DuckDbLake;
let api: QueryApi;
let dir: string;
const sent: SimulatedRecord[] = [];

beforeAll(async () => {
  const sim = new ShopperSimulator({ seed: 404, startTimeMs: START, eventsPerSecond: 4, dailyCurve: false, warmStart: true, inject: { duplicates: 0.02, malformed: 0.005 } });
  while (true) {
    const r = sim.nextRecord();
    if (r.event && r.event.event_time >= START + 2 * 3_600_000) break;
    sent.push(asSiteTraffic(r, { v1Era: [0, START + 3_600_000] }));
  }
  const s3 = localS3Client(config);
  const store = localObjectStore(config);
  const records: SourceRecord[] = sent.map((r, i) => ({ topic: 'query.test', partition: i % 3, offset: String(Math.floor(i / 3)), value: r.value }));
  for (let i = 0; i < records.length; i += 6_000) await consumeRecords(store, records.slice(i, i + 6_000), INGEST, encodeEitherVersion);
  dir = mkdtempSync(join(tmpdir(), 'clickstream-query-'));
  const mirror = new LakeMirror(s3, config.bucket, dir);
  await mirror.sync();
  s3.destroy();
  lake = await DuckDbLake.open(dir, { files: mirror.keys() });
  api = new QueryApi({ engine: lake, now: () => INGEST });
}, 120_000);

afterAll(async () => {
  await lake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function query(name: string, params: Record<string, string> = {}): Promise<Row[]> {
  const response = await api.handle(name, { from: String(FROM), to: String(TO), ...params });
  expect(response.statusCode, response.body).toBe(200);
  return (JSON.parse(response.body) as { rows: Row[] }).rows;
}

const notBot = (e: ClickstreamEvent) => e.device_type !== 'bot';

/** The distinct valid events in the window, first copy of each id; without a filter, those of people (bots are left out by default). */
function expectedEvents(filter: (e: ClickstreamEvent) => boolean = notBot): ClickstreamEvent[] {
  const seen = new Set<string>();
  const events: ClickstreamEvent[] = [];
  for (const r of sent) {
    const e = r.event;
    if (!e || r.injected === 'malformed' || seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    if (e.event_time >= FROM && e.event_time < TO && filter(e)) events.push(e);
  }
  return events;
}

const distinct = <T>(values: readonly T[]) => new Set(values.filter((v) => v !== null && v !== undefined)).size;
const sum = (values: readonly (number | null | undefined)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0);
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function sessionFlags(events: readonly ClickstreamEvent[]) {
  return [...groupBy(events, (e) => e.session_id).values()].map((list) => {
    const has = (t: ClickstreamEvent['event_type']) => list.some((e) => e.event_type === t);
    return { viewed: has('product_view'), carted: has('add_to_cart'), checkedOut: has('checkout'), purchased: has('purchase') };
  });
}

describe.each(WINDOWS)('named queries over real Parquet in MinIO, against an independent computation, $name', (window) => {
  beforeAll(async () => {
    [FROM, TO] = [window.from, window.to];
    expect(splitRange({ fromMs: FROM, toMs: TO }, await lake.lakeView()).rolledUp).toHaveLength(window.rolledUp);
  });

  it.each([
    ['no filter', {}, notBot],
    ['device=mobile', { device: 'mobile' }, (e: ClickstreamEvent) => e.device_type === 'mobile'],
    ['device=bot', { device: 'bot' }, (e: ClickstreamEvent) => e.device_type === 'bot'],
    ['source=email and country=US', { source: 'email', country: 'US' }, (e: ClickstreamEvent) => notBot(e) && e.traffic_source === 'email' && e.user_country === 'US'],
  ])('kpis with %s', async (_name, params, filter) => {
    const events = expectedEvents(filter);
    const sessions = sessionFlags(events);
    const [row] = await query('kpis', params);
    expect(events.length).toBeGreaterThan(0);
    expect(row).toMatchObject({
      events: events.length,
      active_users: distinct(events.map((e) => e.user_id)),
      sessions: sessions.length,
      orders: distinct(events.map((e) => e.order_id)),
      converted_sessions: sessions.filter((s) => s.purchased).length,
      carted_sessions: sessions.filter((s) => s.carted).length,
      abandoned_carts: sessions.filter((s) => s.carted && !s.purchased).length,
    });
    expect(row!.revenue).toBeCloseTo(sum(events.map((e) => e.revenue)), 2);
    expect(row!.conversion_rate).toBeCloseTo(sessions.filter((s) => s.purchased).length / sessions.length, 10);
  });

  it('events_per_minute', async () => {
    const expected = [...groupBy(expectedEvents(), (e) => `${Math.floor(e.event_time / 60_000) * 60_000}|${e.event_type}`)]
      .map(([k, list]) => ({ minute: Number(k.split('|')[0]), event_type: k.split('|')[1], events: list.length }))
      .sort((a, b) => a.minute - b.minute || a.event_type!.localeCompare(b.event_type!));
    expect(await query('events_per_minute')).toEqual(expected);
  });

  it('revenue_over_time', async () => {
    const purchases = expectedEvents((e) => notBot(e) && e.event_type === 'purchase');
    const expected = [...groupBy(purchases, (e) => String(Math.floor(e.event_time / 60_000) * 60_000))]
      .map(([k, list]) => ({ bucket: Number(k), orders: distinct(list.map((e) => e.order_id)), revenue: sum(list.map((e) => e.revenue)) }))
      .sort((a, b) => a.bucket - b.bucket);
    const rows = await query('revenue_over_time');
    expect(rows.map((r) => [r.bucket, r.orders])).toEqual(expected.map((r) => [r.bucket, r.orders]));
    rows.forEach((r, i) => expect(r.revenue).toBeCloseTo(expected[i]!.revenue, 2));
  });

  it('funnel', async () => {
    const s = sessionFlags(expectedEvents());
    const [row] = await query('funnel');
    expect(row).toMatchObject({
      sessions: s.length,
      viewed: s.filter((x) => x.viewed).length,
      carted: s.filter((x) => x.viewed && x.carted).length,
      checked_out: s.filter((x) => x.viewed && x.carted && x.checkedOut).length,
      purchased: s.filter((x) => x.viewed && x.carted && x.checkedOut && x.purchased).length,
    });
  });

  it.each<[string, Record<string, string>, (e: ClickstreamEvent) => boolean, (e: ClickstreamEvent) => string]>([
    ['traffic_sources', {}, notBot, (e: ClickstreamEvent) => e.traffic_source],
    ['devices', {}, notBot, (e: ClickstreamEvent) => e.device_type ?? 'unknown'],
    ['devices', { device: 'bot' }, (e: ClickstreamEvent) => e.device_type === 'bot', (e: ClickstreamEvent) => e.device_type ?? 'unknown'],
  ])('%s with %j', async (name, params, filter, key) => {
    const rows = await query(name, params);
    const groups = groupBy(expectedEvents(filter), key);
    expect(rows.map((r) => r.value).sort()).toEqual([...groups.keys()].sort());
    // The data has what is checked: events of an unknown device, or bots.
    if (name === 'devices') expect(groups.has(params.device ?? 'unknown')).toBe(true);
    for (const row of rows) {
      const list = groups.get(row.value as string)!;
      expect(row).toMatchObject({
        sessions: distinct(list.map((e) => e.session_id)),
        converted_sessions: distinct(list.filter((e) => e.event_type === 'purchase').map((e) => e.session_id)),
        orders: distinct(list.map((e) => e.order_id)),
      });
      expect(row.revenue).toBeCloseTo(sum(list.map((e) => e.revenue)), 2);
    }
  });

  it('demographics', async () => {
    const events = expectedEvents();
    const ageGroup = (age: number) => (age < 25 ? '18-24' : age < 35 ? '25-34' : age < 45 ? '35-44' : age < 55 ? '45-54' : age < 65 ? '55-64' : '65+');
    const rows = await query('demographics');
    for (const [dimension, key] of [
      ['age_group', (e: ClickstreamEvent) => (e.user_age == null ? 'unknown' : ageGroup(e.user_age))],
      ['gender', (e: ClickstreamEvent) => e.user_gender ?? 'unknown'],
      ['country', (e: ClickstreamEvent) => e.user_country ?? 'unknown'],
    ] as const) {
      const groups = groupBy(events, key);
      const ours = rows.filter((r) => r.dimension === dimension);
      expect(ours.length, dimension).toBe(groups.size);
      expect(groups.has('unknown'), `${dimension}: the data holds unknown values`).toBe(true);
      for (const row of ours) {
        const list = groups.get(row.value as string)!;
        expect(row.users, `${dimension} ${String(row.value)}`).toBe(distinct(list.map((e) => e.user_id)));
        expect(row.revenue, `${dimension} ${String(row.value)}`).toBeCloseTo(sum(list.map((e) => e.revenue)), 2);
      }
    }
  });

  it('top_products and top_categories', async () => {
    // Product events only (they name a product); a product whose category or brand some events left out stays one row.
    const events = expectedEvents().filter((e) => e.product_id);
    const greatest = (values: readonly (string | null | undefined)[]) => values.filter((v) => v != null).sort().at(-1) ?? 'unknown';
    // All products, not only the top ten: some hold a category some of their events left out.
    expect(events.some((e) => e.product_category == null), 'the data holds unknown categories').toBe(true);
    for (const [name, key] of [
      ['top_products', (e: ClickstreamEvent) => e.product_id!],
      ['top_categories', (e: ClickstreamEvent) => e.product_category ?? 'unknown'],
    ] as const) {
      const expected = [...groupBy(events, key)]
        .map(([k, list]) => ({
          key: k,
          details: name === 'top_products' ? [greatest(list.map((e) => e.product_category)), greatest(list.map((e) => e.product_brand))] : [],
          views: list.filter((e) => e.event_type === 'product_view').length,
          units: sum(list.filter((e) => e.event_type === 'purchase').map((e) => e.quantity)),
          revenue: Math.round(sum(list.map((e) => e.revenue)) * 100) / 100,
        }))
        .sort((a, b) => b.revenue - a.revenue || b.views - a.views || (a.key < b.key ? -1 : 1))
        .slice(0, 10);
      const rows = await query(name);
      const columns = name === 'top_products' ? ['product_id', 'product_category', 'product_brand'] : ['product_category'];
      expect(rows.map((r) => [...columns.map((c) => r[c]), r.views, r.units])).toEqual(expected.map((e) => [e.key, ...e.details, e.views, e.units]));
    }
    // Every category's figures, unknown included: none dropped.
    const categories = await query('top_categories');
    expect(categories.map((r) => r.product_category)).toContain('unknown');
  });

  it('freshness', async () => {
    const events = expectedEvents();
    const [row] = await query('freshness');
    expect(row).toEqual({ newest_event_time: Math.max(...events.map((e) => e.event_time)), newest_ingest_time: INGEST, events: events.length });
  });

  it('quarantine counts the malformed records by reason, by ingest time', async () => {
    const response = await api.handle('quarantine', { from: String(INGEST - 60_000), to: String(INGEST + 60_000) });
    const rows = (JSON.parse(response.body) as { rows: Row[] }).rows;
    expect(sum(rows.map((r) => r.records as number))).toBe(sent.filter((r) => r.injected === 'malformed').length);
    expect(rows.map((r) => r.code).sort()).toEqual(['future_event_time', 'invalid_event', 'invalid_json', 'invalid_utf8', 'too_large']);
    expect(rows.every((r) => typeof r.example === 'string' && r.example.length > 0)).toBe(true);
  });
});

/** Sums of doubles differ in the last digits with the order rows are added in. */
function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Math.round(value * 1e6) / 1e6;
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}

describe('the same queries over the raw files, with copies removed in SQL as Athena does', () => {
  it('have a lake of both schema versions: v1 files with the fields v1 required, v2 files with them nullable', async () => {
    const files = await lake.run(`SELECT name, repetition_type, count(DISTINCT file_name) AS files FROM parquet_schema('${dir}/**/*.parquet')
      WHERE name IN ('user_age', 'device_type') GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(files.map((f) => `${String(f.name)} ${String(f.repetition_type)}`)).toEqual(['device_type OPTIONAL', 'device_type REQUIRED', 'user_age OPTIONAL', 'user_age REQUIRED']);
  });

  it('give the same answers as the de-duplicated table, for every named query', async () => {
    // The files as written hold cross-batch copies; the window in the SQL must remove them.
    await lake.run(`CREATE OR REPLACE VIEW raw_events AS ${rawEventRows(dir)}`);
    const [files] = await lake.run('SELECT count(*) - count(DISTINCT event_id) AS copies FROM raw_events');
    expect(files!.copies).toBeGreaterThan(0);
    const raw = new QueryApi({ engine: { dialect: duckdbDialect('raw_events', 'lake_quarantine', false), run: (sql) => lake.run(sql) }, now: () => INGEST });
    // v1 files (required columns) and v2 files (nullable, with nulls) read together, bots left out and asked for.
    for (const params of [{ from: String(FROM), to: String(TO) }, { from: String(FROM), to: String(TO), device: 'bot' }]) {
      for (const name of QUERY_NAMES) {
        const [table, files] = await Promise.all([api.handle(name, params), raw.handle(name, params)]);
        expect(rounded(JSON.parse(files.body)), `${name} ${JSON.stringify(params)}`).toEqual(rounded(JSON.parse(table.body)));
      }
    }
  });
});

describe('query API', () => {
  it.each([
    ['no_such_query', {}, /unknown query "no_such_query": use one of kpis, /],
    ['kpis', { from: String(TO), to: String(FROM) }, /from must be before to/],
    ['kpis', { from: '2026-01-01T00:00:00Z', to: String(TO) }, /longer than 31 days/],
    ['kpis', { device: "mobile' OR 1=1 --" }, /device must be one of desktop, mobile, tablet, bot/],
    ['kpis', { country: "US'); DROP TABLE lake_events; --" }, /country must be a two-letter ISO code/],
  ])('answers %s %j with 400 and the reason', async (name, params, reason) => {
    const response = await api.handle(name, params);
    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(reason);
  });

  it('answers a repeated request from its cache, and a different one from the engine', async () => {
    let runs = 0;
    const counting = new QueryApi({ engine: { dialect: lake.dialect, run: (sql) => (runs++, lake.run(sql)) }, now: () => INGEST });
    const params = { from: String(FROM), to: String(TO) };
    const first = await counting.handle('kpis', params);
    const second = await counting.handle('kpis', params);
    expect(second.body).toBe(first.body);
    expect(runs).toBe(1);
    await counting.handle('kpis', { ...params, device: 'tablet' });
    expect(runs).toBe(2);
  });

  it('shows an empty lake as zeros, not an error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'clickstream-empty-'));
    const emptyLake = await DuckDbLake.open(empty);
    try {
      const response = await new QueryApi({ engine: emptyLake }).handle('kpis', {});
      expect(response.statusCode).toBe(200);
      expect((JSON.parse(response.body) as { rows: Row[] }).rows[0]).toMatchObject({ events: 0, sessions: 0, revenue: 0, conversion_rate: null });
    } finally {
      await emptyLake.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
