/**
 * The dashboard's named queries, defined once for both engines.
 *
 * Every query but quarantine reads the rows of one rollup (rollups.ts) over its
 * time range and filters (`rolled_up`): from the rollup's table for the whole
 * hours it covers, and grouped at query time from the `events` CTE for the rest.
 * On the local engine, the queries that count sessions or users also add the
 * count rows of those whole hours (`counts`), which stand for the ids of users
 * the rollup rows then leave out (regular-counts.ts).
 * The events are the rows in the range and filters, restricted to the partitions
 * the range touches (so Athena scans only those), with one row per event_id in
 * each event hour (the first copy to arrive, as every reader keeps; eventsCte), so
 * no figure is ever inflated by a re-sent event. Over
 * the files (Athena) compacted hours hold each event once and the rest goes
 * through a window (eventsCte); the local engine's table is de-duplicated as it
 * loads, so its queries skip the window. Values in the SQL come only from
 * validated parameters (QueryParameters), this file's own constants and the
 * compaction manifest's file keys (quoted). Bots are left out of every figure
 * unless the device filter asks for them, and a value an event left unknown
 * (schema v2) counts in a group named "unknown" (filterPredicates, UNKNOWN).
 *
 * Each query names each table once: Trino (Athena) inlines a CTE at every use,
 * and each use is another scan of the files, billed again. So kpis counts
 * sessions with distinct counts instead of a second, per-session pass, and
 * demographics groups one read three ways with GROUPING SETS. The SQL runs
 * on a real Trino in test/integration/trino-queries.test.ts, which checks the
 * plans scan each table at most once.
 */
import { EMPTY_VIEW, type LakeView } from '../common/compaction-manifest.ts';
import { HOUR_MS } from '../common/lake-timing.ts';
import { hourOfKey, lateKeyEventHours } from '../consumer/lake-keys.ts';
import { BOT_DEVICE as BOT } from '../common/event-enums.ts';
import type { Dialect } from './dialect.ts';
import { BadRequestError, type QueryParameters } from './parameters.ts';
import { ROLLUP_FILTERS, rollupColumns, rollupFromEvents, type RollupName } from './rollups.ts';

export const QUERY_NAMES = [
  'kpis',
  'events_per_minute',
  'revenue_over_time',
  'funnel',
  'traffic_sources',
  'devices',
  'demographics',
  'top_products',
  'top_categories',
  'freshness',
  'quarantine',
] as const;
export type QueryName = (typeof QUERY_NAMES)[number];

export function isQueryName(name: string): name is QueryName {
  return (QUERY_NAMES as readonly string[]).includes(name);
}

const DAY_MS = 86_400_000;

/** Minute buckets up to 6 hours, hour buckets up to a week, day buckets beyond. */
export function timeBucket(params: QueryParameters): 'minute' | 'hour' | 'day' {
  const range = params.toMs - params.fromMs;
  return range <= 6 * HOUR_MS ? 'minute' : range <= 7 * DAY_MS ? 'hour' : 'day';
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * The partitions a range touches, as a predicate on the string partition
 * columns: a day the range covers whole is named by its day, a day it covers in
 * part lists its hours, so a one-hour range reads one or two hour directories.
 */
export function partitionPredicate(fromMs: number, toMs: number): string {
  const days: string[] = [];
  for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS; day < toMs; day += DAY_MS) {
    const d = new Date(day);
    const dayPredicate = `year = '${d.getUTCFullYear()}' AND month = '${pad2(d.getUTCMonth() + 1)}' AND day = '${pad2(d.getUTCDate())}'`;
    const firstHour = Math.floor(Math.max(0, fromMs - day) / HOUR_MS);
    const endHour = Math.ceil(Math.min(DAY_MS, toMs - day) / HOUR_MS);
    const hours = Array.from({ length: endHour - firstHour }, (_, i) => `'${pad2(firstHour + i)}'`);
    days.push(hours.length === 24 ? `(${dayPredicate})` : `(${dayPredicate} AND hour IN (${hours.join(', ')}))`);
  }
  return `(${days.join(' OR ')})`;
}

/** A predicate selecting these hours' partitions (hour starts in ms, ascending): contiguous runs, each as partitionPredicate names it. */
function hoursPredicate(hours: readonly number[]): string {
  const runs: [number, number][] = [];
  for (const hour of hours) {
    const last = runs[runs.length - 1];
    if (last && last[1] === hour) last[1] = hour + HOUR_MS;
    else runs.push([hour, hour + HOUR_MS]);
  }
  return runs.length === 1 ? partitionPredicate(...runs[0]!) : `(${runs.map(([from, to]) => partitionPredicate(from, to)).join(' OR ')})`;
}

const quoteSql = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Picks these files (lake keys) by the engine's `"$path"` column: by whole path, or (pathsByName) by
 * the part from their hour partition on (`year=…/hour=…/<name>`), which names one file of a table.
 */
function pathPredicate(d: Dialect, keys: readonly string[]): string {
  if (!d.pathsByName) return `"$path" IN (${keys.map((k) => quoteSql(d.objectPath!(k))).join(', ')})`;
  const fromHour = (key: string) => {
    const at = key.indexOf('year=');
    if (at < 0) throw new Error(`the lake key ${key} names no hour partition`);
    return quoteSql(key.slice(at));
  };
  return `substr("$path", strpos("$path", '/year=') + 1) IN (${keys.map(fromHour).join(', ')})`;
}

/**
 * The statement for the engine: `build` for the dialect, or, where that is longer than the engine
 * takes (Athena: 256 KiB; a range of weeks can name thousands of files), for the dialect picking
 * files by name; `fits` false (and `bytes` its length) if that is too long as well.
 */
export function fitStatement(d: Dialect, build: (d: Dialect) => string): { readonly sql: string; readonly bytes: number; readonly fits: boolean } {
  let fitted = { sql: '', bytes: 0, fits: false };
  for (const dialect of d.objectPath ? [d, { ...d, pathsByName: true }] : [d]) {
    const sql = build(dialect);
    const bytes = new TextEncoder().encode(sql).length;
    fitted = { sql, bytes, fits: d.maxStatementBytes === undefined || bytes <= d.maxStatementBytes };
    if (fitted.fits) break;
  }
  return fitted;
}

/**
 * The filters as predicates on columns every event table and every rollup has. Without a device
 * filter, bots (schema v2's `bot` device: crawlers the collector flags) are left out, so they never
 * inflate a figure; `device=bot` shows them alone. IS DISTINCT FROM keeps the events whose device is
 * unknown (NULL), which `<>` would drop; DuckDB and Trino both have it. The rollups group by device,
 * so this picks whole rollup rows too.
 */
function filterPredicates(p: QueryParameters): string[] {
  return [
    p.device ? `device_type = '${p.device}'` : `device_type IS DISTINCT FROM '${BOT}'`,
    ...(p.source ? [`traffic_source = '${p.source}'`] : []),
    ...(p.country ? [`user_country = '${p.country}'`] : []),
  ];
}

/** The start of each hour the range touches, ascending. */
function hoursOf(p: QueryParameters): number[] {
  const hours: number[] = [];
  for (let h = Math.floor(p.fromMs / HOUR_MS) * HOUR_MS; h < p.toMs; h += HOUR_MS) hours.push(h);
  return hours;
}

/**
 * Whether a late file not folded in yet may hold rows of an hour. Its name gives its event hours
 * (lateObjectKey); a name without them (written before they were named) may hold any hour up to
 * its ingest hour, since a late row was ingested after it happened.
 */
function mayHoldHour(key: string, hour: number): boolean {
  const spans = lateKeyEventHours(key) ?? [[-Infinity, hourOfKey(key) ?? Infinity]];
  return spans.some(([first, last]) => hour >= first && hour <= last);
}

/** Late files not folded in yet that may hold rows of these hours. */
function lateFilesFor(hours: readonly number[], view: LakeView): string[] {
  return view.unfoldedLate.filter((key) => hours.some((h) => mayHoldHour(key, h)));
}

/** The hours among these that a late file not folded in yet may hold rows of: their rows are in no compacted file or rollup yet. */
function hoursWithLateRows(hours: readonly number[], view: LakeView): Set<number> {
  return new Set(hours.filter((h) => view.unfoldedLate.some((key) => mayHoldHour(key, h))));
}

/**
 * Which hours of the range a rollup answers (whole hours inside it that have one) and which its
 * events answer. An hour a late file not folded in may hold rows of is read from its events: those
 * rows are in no rollup yet; so is every hour for a filter the rollup does not answer.
 */
export function splitRange(p: QueryParameters, view: LakeView, rollup: RollupName = 'sessions'): { readonly rolledUp: number[]; readonly fromEvents: number[] } {
  const hours = hoursOf(p);
  const unanswered = (['device', 'source', 'country'] as const).some((f) => p[f] !== undefined && !ROLLUP_FILTERS[rollup].includes(f));
  if (unanswered) return { rolledUp: [], fromEvents: hours };
  const withLateRows = hoursWithLateRows(hours, view);
  const rolled = (h: number) => h >= p.fromMs && h + HOUR_MS <= p.toMs && view.rollups.has(h) && !withLateRows.has(h);
  return { rolledUp: hours.filter(rolled), fromEvents: hours.filter((h) => !rolled(h)) };
}

/**
 * The `events` CTE: one row per event_id of these hours in the range and filters.
 *
 * The local engine's table is de-duplicated already. Over the files (Athena), the
 * hours come from two places: hours the compactor committed (LakeView) are read
 * from their committed files only, which hold each event once, so they need no
 * window; the other hours are read raw, with the window. A late file not folded
 * in yet can repeat an event of the hours its name gives, so those hours' compacted
 * rows go through the window with it (exact, at the raw cost, until the next
 * compaction run folds it).
 *
 * An event is its event_id within its event hour, for every reader: the compactor
 * and the local engine keep one copy per hour, so the window does too. Copies can
 * differ in event time (the collector corrects each request's clock) and, from a
 * careless sender, in any field; so the window sees every row of its hours, and the
 * range's bounds and the filters pick from the copies it kept, not before (a copy
 * just inside `from` must not stand in for an earlier one just outside it). Copies
 * ingested in the same millisecond (one consumer invocation, two partitions) are
 * ordered by source, as the compactor and the local engine order them.
 * `rolledUp`: a part of the range whose events are left out, as the rollups answer it (a suffix:
 * dashboard-statement.ts).
 */
export function eventsCte(d: Dialect, p: QueryParameters, hours: readonly number[], view: LakeView, rolledUp?: { readonly fromMs: number; readonly toMs: number }): string {
  const rowFilters = [
    `event_time >= ${d.timestamp(p.fromMs)}`,
    `event_time < ${d.timestamp(p.toMs)}`,
    // One range of one column: engines still skip row groups by it.
    ...(rolledUp ? [`(event_time < ${d.timestamp(rolledUp.fromMs)} OR event_time >= ${d.timestamp(rolledUp.toMs)})`] : []),
    ...filterPredicates(p),
  ];
  // Before the window: whole hours only (the late table's partitions are ingest hours, and its files' rows
  // of other hours need not be read).
  const wholeHours = hours.length > 0 ? [`event_time >= ${d.timestamp(Math.min(...hours))}`, `event_time < ${d.timestamp(Math.max(...hours) + HOUR_MS)}`] : [];
  const where = (partitions: string, paths?: readonly string[], filters: readonly string[] = rowFilters) => [partitions, ...(paths ? [pathPredicate(d, paths)] : []), ...filters].join('\n      AND ');
  if (d.deduplicated) return `events AS (\n  SELECT * FROM ${d.eventsTable}\n  WHERE ${where(hoursPredicate(hours))}\n)`;

  const raw = hours.filter((h) => !view.compacted.has(h));
  const late = lateFilesFor(hours, view);
  const withLateRows = hoursWithLateRows(hours, view);
  // The late table is partitioned by ingest hour.
  const ingestHours = [...new Set(late.map((key) => hourOfKey(key)!))].sort((a, b) => a - b);

  // The three tables have the same columns in the same order (lib/catalog.ts), so their rows union as they are.
  const select = (table: string, partitions: string, paths?: readonly string[], filters?: readonly string[]) => `SELECT * FROM ${table}\n    WHERE ${where(partitions, paths, filters)}`;
  const compactedPart = (compacted: readonly number[], filters?: readonly string[]) =>
    compacted.length > 0 ? [select(d.compactedTable!, hoursPredicate(compacted), compacted.flatMap((h) => view.compacted.get(h)!), filters)] : [];
  const windowed = [
    ...(raw.length > 0 ? [select(d.eventsTable, hoursPredicate(raw), undefined, wholeHours)] : []),
    ...(late.length > 0 ? [select(d.lateTable!, hoursPredicate(ingestHours), late, wholeHours)] : []),
    ...compactedPart(hours.filter((h) => view.compacted.has(h) && withLateRows.has(h)), wholeHours),
  ];
  // The windowed part keeps its copy_number column; the compacted part gets the same constant, so the two union.
  const parts = [
    ...compactedPart(hours.filter((h) => view.compacted.has(h) && !withLateRows.has(h))).map((part) => part.replace('SELECT *', 'SELECT *, 1 AS copy_number')),
    ...(windowed.length > 0
      ? [`SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY event_id, date_trunc('hour', event_time) ORDER BY ingest_time, source_topic, source_partition, source_offset) AS copy_number
    FROM (\n    ${windowed.join('\n    UNION ALL\n    ')}\n    )
  ) WHERE ${['copy_number = 1', ...rowFilters].join('\n    AND ')}`]
      : []),
  ];
  return `events AS (\n  ${parts.join('\n  UNION ALL\n  ')}\n)`;
}

/**
 * The CTEs ending in `rolled_up`: the rows of one rollup (rollups.ts) over the range and filters,
 * read from the rollup for the hours it covers and grouped from the events for the rest.
 */
function rollupCtes({ rollup: name, columns }: RollupRead, d: Dialect, p: QueryParameters, view: LakeView, counts: boolean): string {
  const { rolledUp, fromEvents } = splitRange(p, view, name);
  const ctes: string[] = [];
  if (counts) ctes.push(`counts AS (\n  SELECT * FROM ${d.counts!.table}\n  WHERE ${[hoursPredicate(rolledUp), ...filterPredicates(p)].join('\n    AND ')}\n)`);
  const parts: string[] = [];
  if (rolledUp.length > 0) {
    // With count rows, the ids are those of the users they do not count; with no device or source filter, the rows of the default view where the engine keeps them.
    const table = counts ? d.counts!.idRows : ((!p.device && !p.source && d.defaultViewTable?.(name)) || d.rollupTable(name));
    parts.push(rollupTableRows(name, rollupColumns(name, columns).map((c) => c.name), d, p, view, rolledUp, table));
  }
  if (fromEvents.length > 0) {
    ctes.push(eventsCte(d, p, fromEvents, view));
    parts.push(rollupFromEvents(name, 'events', columns));
  }
  ctes.push(`rolled_up AS (\n  ${parts.join('\n  UNION ALL\n  ')}\n)`);
  return `WITH ${ctes.join(',\n')}`;
}

/** The rows of a rollup's table (by default its own) for these whole hours of the range, in the filters: the committed files' over Athena. */
export function rollupTableRows(
  name: RollupName,
  columns: readonly string[],
  d: Dialect,
  p: QueryParameters,
  view: LakeView,
  hours: readonly number[],
  table = d.rollupTable(name),
  where: readonly string[] = [],
): string {
  const files = hours.flatMap((h) => {
    const entry = view.rollups.get(h);
    if (!entry || entry === 'tables') return [];
    const file = entry[name];
    if (file === undefined) throw new Error(`the hour ${new Date(h).toISOString()} has no ${name} rollup: read it from its events`);
    return [file];
  });
  const conditions = [hoursPredicate(hours), ...(d.objectPath && files.length > 0 ? [pathPredicate(d, files)] : []), ...filterPredicates(p), ...where];
  return `SELECT ${columns.join(', ')} FROM ${table}\n    WHERE ${conditions.join('\n      AND ')}`;
}

/** One row per session of the range: which funnel steps it reached, each step requiring the ones before it. */
const SESSIONS_CTE = `sessions AS (
  SELECT session_id,
    bool_or(product_views > 0) AS viewed,
    bool_or(cart_adds > 0) AS carted,
    bool_or(checkouts > 0) AS checked_out,
    bool_or(purchases > 0) AS purchased
  FROM rolled_up GROUP BY session_id
)`;

/** The funnel's steps, each requiring the ones before it. */
const FUNNEL_STEPS: readonly (readonly [string, string])[] = [
  ['viewed', 'viewed'],
  ['carted', 'viewed AND carted'],
  ['checked_out', 'viewed AND carted AND checked_out'],
  ['purchased', 'viewed AND carted AND checked_out AND purchased'],
];

/** count_if, spelled so that both engines count 0 over no rows (DuckDB's count_if gives NULL there, Trino's 0). */
const countIf = (condition: string) => `count(CASE WHEN ${condition} THEN 1 END)`;

/** A sum of counts as a BIGINT, 0 over no rows (DuckDB sums BIGINTs into a HUGEINT). */
export const total = (column: string) => `CAST(coalesce(sum(${column}), 0) AS BIGINT)`;

/**
 * What a breakdown shows for a NULL value: schema v2 lets a real site's events leave out the
 * demographics, country, device and product details (a tracker cannot know them). Those events
 * still count, in a group of their own under this name, never dropped and never in another group.
 * No value of those fields can be this name by schema except a product's category or brand, whose
 * "unknown" would mean the same.
 */
export const UNKNOWN = 'unknown';

/** A breakdown column with NULL shown as UNKNOWN: a grouping value that is never NULL, so never confused with a grouping set's NULL either. */
export const known = (column: string) => `coalesce(${column}, '${UNKNOWN}')`;

/** Age brackets; an unknown age is its own group (an ELSE alone would count it as the oldest). */
export const AGE_GROUP = `CASE WHEN user_age IS NULL THEN '${UNKNOWN}' WHEN user_age < 25 THEN '18-24' WHEN user_age < 35 THEN '25-34' WHEN user_age < 45 THEN '35-44'
    WHEN user_age < 55 THEN '45-54' WHEN user_age < 65 THEN '55-64' ELSE '65+' END`;

/** Sessions, converted sessions, orders and revenue per value of a column, from the rows and from the count rows if `counts`. */
function breakdown(column: string, counts: boolean): string {
  const rows = `SELECT ${known(column)} AS value,
  count(DISTINCT session_id) AS sessions,
  count(DISTINCT CASE WHEN purchases > 0 THEN session_id END) AS converted_sessions,
  count(DISTINCT order_id) AS orders,
  coalesce(sum(revenue), 0) AS revenue
FROM rolled_up GROUP BY 1`;
  const order = ' ORDER BY sessions DESC, value';
  if (!counts) return rows + order;
  const fromCounts = `SELECT ${known(column)}, sum(sessions), sum(CASE WHEN purchased THEN sessions END), sum(orders), sum(revenue) FROM counts GROUP BY 1`;
  const outer = `value, ${total('sessions')} AS sessions, ${total('converted_sessions')} AS converted_sessions, ${total('orders')} AS orders, coalesce(sum(revenue), 0) AS revenue`;
  return sumOfParts(rows, fromCounts, outer, `\nGROUP BY 1${order}`);
}

/**
 * The ten groups of product events (those with a product_id: every product event has one, no
 * other event does) with the most revenue, grouped by `key` (a column, possibly with an alias)
 * and showing `details` beside it. A product's category or brand may be missing on some of its
 * events (schema v2), so top products groups by the product alone and shows the greatest category
 * and brand its events gave (each UNKNOWN if none did): one row per product, its figures never
 * split by what a tracker sent.
 */
function top(key: string, details: readonly string[] = []): string {
  return `SELECT ${key},${details.map((d) => `\n  ${known(`max(${d})`)} AS ${d},`).join('')}
  ${total('product_views')} AS views,
  ${total('cart_adds')} AS cart_adds,
  ${total('units')} AS units,
  coalesce(sum(revenue), 0) AS revenue
FROM rolled_up WHERE product_id IS NOT NULL GROUP BY 1 ORDER BY revenue DESC, views DESC, 1 LIMIT 10`;
}

interface RollupRead {
  readonly rollup: RollupName;
  /** The rollup columns the query reads: all Athena scans of the rollup, and all it groups the events by. */
  readonly columns: readonly string[];
}

/** The queries whose distinct counts the local engine's count rows answer in part (regular-counts.ts). */
const COUNTED: ReadonlySet<QueryName> = new Set(['kpis', 'funnel', 'traffic_sources', 'devices', 'demographics', 'revenue_over_time']);

/**
 * Whether a query adds count rows (regular-counts.ts) to its distinct counts: an engine that keeps
 * them, a query that counts sessions, users or orders, and whole hours in the range that a rollup
 * answers. Count rows are per hour, so revenue over time uses them for hour and day buckets only.
 */
function usesCounts(name: QueryName, d: Dialect, p: QueryParameters, view: LakeView): boolean {
  if (name === 'revenue_over_time' && timeBucket(p) === 'minute') return false;
  return d.counts !== undefined && COUNTED.has(name) && splitRange(p, view).rolledUp.length > 0;
}

/**
 * A figure over two parts: the rows (ids counted distinct) and the count rows (ids counted by
 * numbers, never among the rows), each aggregated by `select`s of the same columns, added up.
 */
function sumOfParts(rows: string, counts: string, outer: string, tail = ''): string {
  return `SELECT ${outer}\nFROM (\n${rows}\nUNION ALL\n${counts}\n) parts${tail}`;
}

/** The rollup each query over events reads, and which of its columns. */
export const ROLLUP_OF: Readonly<Record<Exclude<QueryName, 'quarantine'>, RollupRead>> = {
  kpis: { rollup: 'sessions', columns: ['session_id', 'user_id', 'order_id', 'events', 'cart_adds', 'purchases', 'revenue'] },
  events_per_minute: { rollup: 'activity', columns: ['event_minute', 'event_type', 'events'] },
  revenue_over_time: { rollup: 'sessions', columns: ['order_id', 'order_minute', 'revenue'] },
  funnel: { rollup: 'sessions', columns: ['session_id', 'product_views', 'cart_adds', 'checkouts', 'purchases'] },
  traffic_sources: { rollup: 'sessions', columns: ['session_id', 'traffic_source', 'order_id', 'purchases', 'revenue'] },
  devices: { rollup: 'sessions', columns: ['session_id', 'device_type', 'order_id', 'purchases', 'revenue'] },
  demographics: { rollup: 'sessions', columns: ['user_id', 'user_age', 'user_gender', 'user_country', 'revenue'] },
  top_products: { rollup: 'products', columns: ['product_id', 'product_category', 'product_brand', 'product_views', 'cart_adds', 'units', 'revenue'] },
  top_categories: { rollup: 'products', columns: ['product_id', 'product_category', 'product_views', 'cart_adds', 'units', 'revenue'] },
  freshness: { rollup: 'activity', columns: ['events', 'newest_event_time', 'newest_ingest_time'] },
};

/** A named query's SQL; the view says which hours are compacted and which have rollups. */
export function querySql(name: QueryName, d: Dialect, p: QueryParameters, view: LakeView = EMPTY_VIEW): string {
  const { sql, bytes, fits } = fitStatement(d, (dialect) => namedQuerySql(name, dialect, p, view));
  if (fits) return sql;
  throw new BadRequestError(
    `this range names too many files for one query (${Math.ceil(bytes / 1024)} KiB of SQL, at most ${Math.floor(d.maxStatementBytes! / 1024)} KiB): choose a shorter range or fewer filters`,
  );
}

function namedQuerySql(name: QueryName, d: Dialect, p: QueryParameters, view: LakeView): string {
  // The CTEs ending in `rolled_up` (not `rollup`: a reserved word in Trino), the rows each query below reads.
  const counts = name !== 'quarantine' && usesCounts(name, d, p, view);
  const rollup = name === 'quarantine' ? '' : rollupCtes(ROLLUP_OF[name], d, p, view, counts);
  switch (name) {
    case 'kpis': {
      // Session figures as distinct counts over the one read, no per-session step: the sessions with a
      // cart and no purchase are those with a cart or a purchase, less those with a purchase.
      const rows = `SELECT ${total('events')} AS events, count(DISTINCT user_id) AS active_users, count(DISTINCT session_id) AS sessions,
  count(DISTINCT order_id) AS orders, coalesce(sum(revenue), 0) AS revenue,
  count(DISTINCT CASE WHEN purchases > 0 THEN session_id END) AS converted_sessions,
  count(DISTINCT CASE WHEN cart_adds > 0 THEN session_id END) AS carted_sessions,
  count(DISTINCT CASE WHEN cart_adds > 0 OR purchases > 0 THEN session_id END)
    - count(DISTINCT CASE WHEN purchases > 0 THEN session_id END) AS abandoned_carts
FROM rolled_up`;
      if (!counts) return `${rollup}\n${rows}`;
      const fromCounts = `SELECT sum(events), sum(users), sum(sessions), sum(orders), sum(revenue), sum(CASE WHEN purchased THEN sessions END),
  sum(CASE WHEN carted THEN sessions END), sum(CASE WHEN carted AND NOT purchased THEN sessions END) FROM counts`;
      const figures = ['events', 'active_users', 'sessions', 'orders', 'revenue', 'converted_sessions', 'carted_sessions', 'abandoned_carts'];
      const outer = figures.map((f) => (f === 'revenue' ? 'coalesce(sum(revenue), 0) AS revenue' : `${total(f)} AS ${f}`)).join(', ');
      return `${rollup}\n${sumOfParts(rows, fromCounts, outer)}`;
    }
    case 'events_per_minute':
      return `${rollup}
SELECT ${d.epochMs('event_minute')} AS minute, event_type, ${total('events')} AS events
FROM rolled_up GROUP BY 1, 2 ORDER BY 1, 2`;
    case 'revenue_over_time': {
      // A purchase's rows carry its minute; no other event's do.
      const bucket = (time: string) => d.epochMs(`date_trunc('${timeBucket(p)}', ${time})`);
      const rows = `SELECT ${bucket('order_minute')} AS bucket, count(DISTINCT order_id) AS orders, sum(revenue) AS revenue
FROM rolled_up WHERE order_minute IS NOT NULL GROUP BY 1`;
      if (!counts) return `${rollup}\n${rows} ORDER BY 1`;
      // A regular user's purchases lie in its count row's hour, so in that hour's bucket.
      const fromCounts = `SELECT ${bucket(d.counts!.hourStart)}, sum(purchase_orders), sum(purchase_revenue) FROM counts WHERE purchase_orders > 0 GROUP BY 1`;
      return `${rollup}\n${sumOfParts(rows, fromCounts, `bucket, ${total('orders')} AS orders, sum(revenue) AS revenue`, '\nGROUP BY 1 ORDER BY 1')}`;
    }
    case 'funnel': {
      const rows = `SELECT count(*) AS sessions,\n  ${FUNNEL_STEPS.map(([step, condition]) => `${countIf(condition)} AS ${step}`).join(',\n  ')}\nFROM sessions`;
      if (!counts) return `${rollup}, ${SESSIONS_CTE}\n${rows}`;
      const fromCounts = `SELECT sum(sessions), ${FUNNEL_STEPS.map(([, condition]) => `sum(CASE WHEN ${condition} THEN sessions END)`).join(', ')} FROM counts`;
      const outer = ['sessions', ...FUNNEL_STEPS.map(([step]) => step)].map((f) => `${total(f)} AS ${f}`).join(', ');
      return `${rollup}, ${SESSIONS_CTE}\n${sumOfParts(rows, fromCounts, outer)}`;
    }
    case 'traffic_sources':
      return `${rollup}\n${breakdown('traffic_source', counts)}`;
    case 'devices':
      return `${rollup}\n${breakdown('device_type', counts)}`;
    case 'demographics': {
      // Three groupings of one read; grouping(x) = 0 marks the rows grouped by x. An unknown value is UNKNOWN, not NULL, so it
      // is a group of its own that no reader can take for the NULL a grouping set puts in the columns it does not group by.
      const grouped = (users: string, relation: string, userColumn: string, ageGroup = AGE_GROUP) => `SELECT
  CASE WHEN grouping(age_group) = 0 THEN 'age_group' WHEN grouping(user_gender) = 0 THEN 'gender' ELSE 'country' END AS dimension,
  CASE WHEN grouping(age_group) = 0 THEN age_group WHEN grouping(user_gender) = 0 THEN user_gender ELSE user_country END AS value,
  ${users} AS users, coalesce(sum(revenue), 0) AS revenue
FROM (
  SELECT ${ageGroup} AS age_group, ${known('user_gender')} AS user_gender, ${known('user_country')} AS user_country, ${userColumn}, revenue FROM ${relation}
) e
GROUP BY GROUPING SETS ((age_group), (user_gender), (user_country))`;
      const rows = grouped('count(DISTINCT user_id)', 'rolled_up', 'user_id');
      const order = '\nORDER BY 1, 3 DESC, 2';
      if (!counts) return `${rollup}\n${rows}${order}`;
      const outer = `dimension, value, ${total('users')} AS users, coalesce(sum(revenue), 0) AS revenue`;
      return `${rollup}\n${sumOfParts(rows, grouped('sum(users)', 'counts', 'users', 'age_group'), outer, `\nGROUP BY 1, 2${order}`)}`;
    }
    case 'top_products':
      return `${rollup}\n${top('product_id', ['product_category', 'product_brand'])}`;
    case 'top_categories':
      return `${rollup}\n${top(`${known('product_category')} AS product_category`)}`;
    case 'freshness':
      return `${rollup}
SELECT ${d.epochMs('max(newest_event_time)')} AS newest_event_time, ${d.epochMs('max(newest_ingest_time)')} AS newest_ingest_time, ${total('events')} AS events
FROM rolled_up`;
    case 'quarantine':
      return `${quarantineRows(d, p)} ORDER BY records DESC, code`;
  }
}

/** The quarantine's rows, one per code, unordered: the named query orders them; the dashboard's statement unions them in. */
export function quarantineRows(d: Dialect, p: QueryParameters): string {
  // Quarantine lines carry ingest_time in ms; the partitions are by ingest hour.
  return `SELECT code, count(*) AS records, min(reason) AS example
FROM ${d.quarantineTable}
WHERE ${partitionPredicate(p.fromMs, p.toMs)} AND ingest_time >= ${p.fromMs} AND ingest_time < ${p.toMs}
GROUP BY code`;
}
