/**
 * Rollups: each hour's events grouped by what the named queries count, so a
 * query reads a few rows per session, minute or product instead of every event
 * for the hours a rollup covers, and its events for the rest of the range.
 *
 * The answers stay exact because a rollup keeps the identities the distinct
 * counts need. Every query's figure is either a sum (events, revenue, units,
 * views), a maximum (freshness) or a count of distinct ids (users, sessions,
 * orders, converted or carted sessions, the funnel's sessions); the rollups sum
 * and take maxima of the first two, and group by the ids of the third, so a
 * count of distinct ids over rollup rows and events is the count over the events
 * alone. A session's funnel flags are counts per event type, combined over the
 * range per session as the raw query does. A filter a rollup answers (device,
 * source, country: ROLLUP_FILTERS) is one of its grouping columns, so it selects
 * whole rollup rows; a query with a filter its rollup does not answer reads events.
 * So does the default that leaves bots out (a device filter). A key's NULL (schema
 * v2: an unknown age, gender, country, device, category or brand) is a group of its
 * own in both builders, as in SQL's GROUP BY; the queries name it "unknown" as
 * they read the rows, the same for rollup rows and events.
 *
 * - sessions: per session, user, demographics, filters and order: event counts by
 *   type and revenue; a purchase's minute too, for revenue per time bucket.
 *   Answers kpis, funnel, traffic_sources, devices, demographics, revenue_over_time.
 *   Its last times (of all its events, of each funnel step's) and the minute of an
 *   event with revenue (a key) answer a suffix of the hour (dashboard-statement.ts).
 * - activity: per minute, event type and filters: events and the newest times.
 *   Answers events_per_minute and freshness.
 * - products: per product and filters: views, cart additions, units, revenue.
 *   Answers top_products and top_categories.
 * - product_minutes: products per minute, for a suffix of the hour (the dashboard's statement).
 *
 * One definition, two builders: each column has its SQL and its TypeScript side
 * by side. The SQL groups a relation of events (the local engine's rollup tables,
 * and the part of a range no rollup covers); rollupRows groups an hour's rows the
 * same way for the compactor, which writes the files Athena reads. Tests check
 * both against the raw events, on DuckDB and on Trino.
 */
import type { LakeColumnType } from '../common/column-type.ts';
import { BOT_DEVICE } from '../common/event-enums.ts';

export const ROLLUP_NAMES = ['sessions', 'activity', 'products', 'product_minutes'] as const;
export type RollupName = (typeof ROLLUP_NAMES)[number];

/** An event row as the compactor holds it (a LakeRow): field name → value. */
export type EventRow = Readonly<Record<string, unknown>>;

/** How an aggregate column combines a group's events: a count of those that match, a sum or a maximum of a value (NULL over no values, as in SQL). */
export type Aggregate = { readonly count: (row: EventRow) => boolean } | { readonly sum: (row: EventRow) => number | null } | { readonly max: (row: EventRow) => number | null };

export interface RollupColumn {
  readonly name: string;
  readonly type: LakeColumnType;
  /** The column as SQL over a relation of events: a grouping expression, or an aggregate. */
  readonly sql: string;
  /** A grouping column's value for one event (the same as its SQL)… */
  readonly key?: (row: EventRow) => string | number | null;
  /** …or an aggregate column's combination of the group's events (the same as its SQL). */
  readonly aggregate?: Aggregate;
}

/** A field's value; absent is NULL, as a Parquet reader gives an absent optional field (and as rollupFromEvents's SQL sees it). */
const field = (name: string) => (row: EventRow) => (row[name] ?? null) as string | number | null;
const key = (name: string, type: LakeColumnType, sql = name, value = field(name)): RollupColumn => ({ name, type, sql, key: value });
const measure = (name: string, type: LakeColumnType, sql: string, aggregate: Aggregate): RollupColumn => ({ name, type, sql, aggregate });
const countOf = (eventType: string): [string, Aggregate] => [`count(CASE WHEN event_type = '${eventType}' THEN 1 END)`, { count: (row) => row.event_type === eventType }];
/** The newest event time of a group's events of this type (of all its events without one). */
const lastTime = (name: string, eventType?: string): RollupColumn =>
  measure(name, 'timestamp_ms', eventType ? `max(CASE WHEN event_type = '${eventType}' THEN event_time END)` : 'max(event_time)', {
    max: (row) => (eventType === undefined || row.event_type === eventType ? (row.event_time as number) : null),
  });
const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;
const eventMinute = key('event_minute', 'timestamp_ms', "date_trunc('minute', event_time)", (row) => minuteOf(row.event_time as number));

/**
 * The query filters each rollup can answer: their columns are among its keys. A session has one
 * device, source and country in practice, so they cost the sessions rollup no rows; per minute or
 * product, the country (dozens of values) would multiply the rows nearly to one per event (measured:
 * five times the minute rows), so those two rollups leave it out, and a query filtered by country
 * reads its events.
 */
export const ROLLUP_FILTERS: Readonly<Record<RollupName, readonly ('device' | 'source' | 'country')[]>> = {
  sessions: ['device', 'source', 'country'],
  activity: ['device', 'source'],
  products: ['device', 'source'],
  product_minutes: [],
};
const DEVICE_SOURCE = [key('device_type', 'string'), key('traffic_source', 'string')];
const REVENUE = measure('revenue', 'double', 'sum(revenue)', { sum: field('revenue') as (row: EventRow) => number | null });
const PRODUCT_KEYS = [key('product_id', 'string'), key('product_category', 'string'), key('product_brand', 'string')];
const PRODUCT_MEASURES = [
  measure('product_views', 'int64', ...countOf('product_view')),
  measure('cart_adds', 'int64', ...countOf('add_to_cart')),
  measure('units', 'int64', "sum(CASE WHEN event_type = 'purchase' THEN quantity END)", {
    sum: (row) => (row.event_type === 'purchase' ? ((row.quantity ?? null) as number | null) : null),
  }),
  REVENUE,
];

export const ROLLUP_COLUMNS: Readonly<Record<RollupName, readonly RollupColumn[]>> = {
  sessions: [
    key('session_id', 'string'),
    key('user_id', 'string'),
    ...DEVICE_SOURCE,
    key('user_country', 'string'),
    key('user_age', 'int32'),
    key('user_gender', 'string'),
    key('order_id', 'string'),
    key('order_minute', 'timestamp_ms', "CASE WHEN event_type = 'purchase' THEN date_trunc('minute', event_time) END", (row) =>
      row.event_type === 'purchase' ? minuteOf(row.event_time as number) : null,
    ),
    key('revenue_minute', 'timestamp_ms', "CASE WHEN revenue IS NOT NULL THEN date_trunc('minute', event_time) END", (row) =>
      row.revenue !== undefined && row.revenue !== null ? minuteOf(row.event_time as number) : null,
    ),
    measure('events', 'int64', 'count(*)', { count: () => true }),
    measure('product_views', 'int64', ...countOf('product_view')),
    measure('cart_adds', 'int64', ...countOf('add_to_cart')),
    measure('checkouts', 'int64', ...countOf('checkout')),
    measure('purchases', 'int64', ...countOf('purchase')),
    REVENUE,
    lastTime('last_time'),
    lastTime('last_view', 'product_view'),
    lastTime('last_cart', 'add_to_cart'),
    lastTime('last_checkout', 'checkout'),
    lastTime('last_purchase', 'purchase'),
  ],
  activity: [
    eventMinute,
    key('event_type', 'string'),
    ...DEVICE_SOURCE,
    measure('events', 'int64', 'count(*)', { count: () => true }),
    measure('newest_event_time', 'timestamp_ms', 'max(event_time)', { max: (row) => row.event_time as number }),
    measure('newest_ingest_time', 'timestamp_ms', 'max(ingest_time)', { max: (row) => row.ingest_time as number }),
  ],
  products: [...PRODUCT_KEYS, ...DEVICE_SOURCE, ...PRODUCT_MEASURES],
  product_minutes: [
    eventMinute,
    ...PRODUCT_KEYS,
    // The device only where it is a bot, for the default filter that leaves bots out: per device and source a
    // minute's rows were nearly one per product event. A device or source filter reads events instead.
    key('device_type', 'string', `CASE WHEN device_type = '${BOT_DEVICE}' THEN device_type END`, (row) => (row.device_type === BOT_DEVICE ? BOT_DEVICE : null)),
    ...PRODUCT_MEASURES,
  ],
};

/**
 * The rollups whose rows the local engine also keeps grouped for the dashboard's default view: no device
 * or source filter, bots left out. Their rows per device and source are about 16 times as many (783,067
 * `products` rows against 48,024 for a day of 10M events; `activity` 136,249 against 8,580), and a 24-hour
 * top products took 42 ms over them against 19 (measured, one query at a time).
 */
export const DEFAULT_VIEW_ROLLUPS: readonly RollupName[] = ['activity', 'products'];

/**
 * A rollup's rows in `relation` grouped again without the device and source, but for the device where it
 * is a bot (as `product_minutes` keeps it), so the default filter that leaves bots out still picks whole
 * rows; `also` are more grouping columns (the hour's). Sums and counts add up, maxima take the maximum.
 */
export function defaultViewRows(name: RollupName, relation: string, also: readonly string[] = []): string {
  const columns = ROLLUP_COLUMNS[name].filter((c) => c.name !== 'traffic_source');
  const select = columns.map((c) => {
    if (c.name === 'device_type') return `CASE WHEN device_type = '${BOT_DEVICE}' THEN device_type END AS device_type`;
    if (c.key) return c.name;
    return `${c.aggregate && 'max' in c.aggregate ? 'max' : 'sum'}(${c.name}) AS ${c.name}`;
  });
  const keys = columns.flatMap((c, i) => (c.key ? [String(i + 1)] : []));
  return `SELECT ${[...select, ...also].join(', ')} FROM ${relation} GROUP BY ${[...keys, ...also.map((_, i) => String(columns.length + i + 1))].join(', ')}`;
}

/**
 * What only a range's partial first hour in the dashboard's one statement reads (dashboard-statement.ts,
 * suffixOf): a rollup, and columns of `sessions`. An engine that never runs the statement keeps none of
 * them (the local engine, which answers by the named queries: it held about 380 MiB more with them at
 * 10M events, 3,246 MiB against 2,868 in two bench runs).
 */
export const SUFFIX_ONLY = { rollup: 'product_minutes', columns: ['revenue_minute', 'last_time', 'last_view', 'last_cart', 'last_checkout', 'last_purchase'] } as const;

/** The rollups and their columns an engine keeps: all, or with `suffix` false all but SUFFIX_ONLY. */
export function keptRollups(suffix: boolean): readonly { readonly name: RollupName; readonly columns: readonly RollupColumn[] }[] {
  const only: readonly string[] = SUFFIX_ONLY.columns;
  return ROLLUP_NAMES.filter((name) => suffix || name !== SUFFIX_ONLY.rollup).map((name) => ({ name, columns: ROLLUP_COLUMNS[name].filter((c) => suffix || !only.includes(c.name)) }));
}

/**
 * A rollup's columns, all or those named (in the rollup's order). Grouping by fewer keys keeps the
 * answers exact for a query that reads only those columns: its sums and maxima add up the same,
 * and the ids it counts are still keys; an engine then reads only those columns.
 */
export function rollupColumns(name: RollupName, only?: readonly string[]): readonly RollupColumn[] {
  const columns = ROLLUP_COLUMNS[name];
  if (!only) return columns;
  const unknown = only.filter((n) => !columns.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`the ${name} rollup has no column ${unknown.join(', ')}`);
  return columns.filter((c) => only.includes(c.name));
}

/** A rollup's rows (all its columns, or those named) from a relation of events (a table, or `(SELECT …) alias`). */
export function rollupFromEvents(name: RollupName, events: string, only?: readonly string[]): string {
  const columns = rollupColumns(name, only);
  const keys = columns.flatMap((c, i) => (c.key ? [String(i + 1)] : []));
  const select = `SELECT ${columns.map((c) => (c.sql === c.name ? c.name : `${c.sql} AS ${c.name}`)).join(', ')}\n  FROM ${events}`;
  return keys.length > 0 ? `${select} GROUP BY ${keys.join(', ')}` : select;
}

/** A rollup's rows from event rows: what rollupFromEvents computes, in TypeScript (the compactor has no SQL engine). */
export function rollupRows(name: RollupName, events: Iterable<object>): Record<string, string | number | null>[] {
  const builder = rollupBuilder(name);
  builder.add(events);
  return builder.rows();
}

/** One row of a rollup: its key columns' values and its aggregates. */
export type RollupGroup = Record<string, string | number | null>;

/**
 * rollupRows fed in parts: the groups of every part added so far. The compactor adds an hour's
 * slices, as events (add) or as the groups of each slice grouped on its own (addGroups, what its
 * worker threads hand back); a group's sums and maxima over the parts are those over the hour's events.
 */
export function rollupBuilder(name: RollupName): { add(events: Iterable<object>): void; addGroups(groups: Iterable<RollupGroup>): void; rows(): RollupGroup[]; readonly groups: number } {
  const columns = ROLLUP_COLUMNS[name];
  const keys = columns.filter((c) => c.key);
  const aggregates = columns.filter((c) => c.aggregate);
  // Groups found by their key values through one Map per key column (exact, as a JSON key was,
  // without building a string per event: that was most of the rollups' time); in order of first appearance.
  const root = new Map<unknown, unknown>();
  const groups: RollupGroup[] = [];
  const last = keys.length - 1;
  const groupOf = (keyOf: (column: RollupColumn) => string | number | null): RollupGroup => {
    let node = root;
    for (let k = 0; k < last; k++) {
      const value = keyOf(keys[k]!);
      let next = node.get(value) as Map<unknown, unknown> | undefined;
      if (!next) node.set(value, (next = new Map()));
      node = next;
    }
    const lastValue = keyOf(keys[last]!);
    let group = node.get(lastValue) as RollupGroup | undefined;
    if (!group) {
      group = {};
      for (const c of keys) group[c.name] = keyOf(c);
      for (const c of aggregates) group[c.name] = 'count' in c.aggregate! ? 0 : null;
      node.set(lastValue, group);
      groups.push(group);
    }
    return group;
  };
  /** A sum or maximum with one more value (NULL if both are: SQL's over no values). */
  const combine = (a: Aggregate, current: number | null, value: number | null) =>
    value === null ? current : current === null ? value : 'max' in a ? Math.max(current, value) : current + value;
  const add = (events: Iterable<object>) => {
    for (const event of events) {
      const row = event as EventRow;
      const group = groupOf((c) => c.key!(row));
      for (const c of aggregates) {
        const a = c.aggregate!;
        if ('count' in a) {
          if (a.count(row)) (group[c.name] as number)++;
        } else group[c.name] = combine(a, group[c.name] as number | null, 'sum' in a ? a.sum(row) : a.max(row));
      }
    }
  };
  const addGroups = (parts: Iterable<RollupGroup>) => {
    for (const part of parts) {
      const group = groupOf((c) => part[c.name] ?? null);
      for (const c of aggregates) {
        const a = c.aggregate!;
        group[c.name] = 'count' in a ? (group[c.name] as number) + (part[c.name] as number) : combine(a, group[c.name] as number | null, part[c.name] as number | null);
      }
    }
  };
  return {
    add,
    addGroups,
    rows: () => [...groups],
    get groups() {
      return groups.length;
    },
  };
}
