/**
 * The dashboard's named queries, defined once for both engines.
 *
 * Every query reads the same `events` CTE: the rows in the time range and
 * filters, restricted to the partitions the range touches (so Athena scans
 * only those), with one row per event_id (copies differ only in lineage; the
 * first to arrive is kept, so freshness reads the same everywhere), so no figure
 * is ever inflated by a re-sent event. Over the files (Athena) compacted hours
 * hold each event once and the rest goes through a window (eventsCte); the local
 * engine's table is de-duplicated as it loads, so its queries skip the window.
 * Values in the SQL come only from validated parameters (QueryParameters), this
 * file's own constants and the compaction manifest's file keys (quoted).
 *
 * Each query names `events` once: Trino (Athena) inlines a CTE at every use,
 * and each use is another scan of the files, billed again. So kpis counts
 * sessions with distinct counts instead of a second, per-session pass, and
 * demographics groups one read three ways with GROUPING SETS. The SQL runs
 * on a real Trino in test/integration/trino-queries.test.ts, which checks the
 * plans scan each event table at most once.
 */
import { EMPTY_VIEW, type LakeView } from '../common/compaction-manifest.ts';
import { hourOfKey } from '../consumer/lake-keys.ts';
import type { Dialect } from './dialect.ts';
import type { QueryParameters } from './parameters.ts';

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
const HOUR_MS = 3_600_000;

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
 * The `events` CTE: one row per event_id in the range and filters.
 *
 * The local engine's table is de-duplicated already. Over the files (Athena), the
 * range's hours come from two places: hours the compactor committed (LakeView)
 * are read from their committed files only, which hold each event once, so they
 * need no window; the other hours are read raw, with the window. Late files not
 * folded in yet can repeat an event of any hour, so while there are some that
 * could hold rows of the range, everything goes through the window (exact, at
 * the raw cost, until the next compaction run folds them).
 */
function eventsCte(d: Dialect, p: QueryParameters, view: LakeView): string {
  const rowFilters = [
    `event_time >= ${d.timestamp(p.fromMs)}`,
    `event_time < ${d.timestamp(p.toMs)}`,
    ...(p.device ? [`device_type = '${p.device}'`] : []),
    ...(p.source ? [`traffic_source = '${p.source}'`] : []),
    ...(p.country ? [`user_country = '${p.country}'`] : []),
  ];
  const where = (partitions: string, paths?: readonly string[]) =>
    [partitions, ...(paths ? [`"$path" IN (${paths.map((k) => quoteSql(d.objectPath!(k))).join(', ')})`] : []), ...rowFilters].join('\n      AND ');
  if (d.deduplicated) return `WITH events AS (\n  SELECT * FROM ${d.eventsTable}\n  WHERE ${where(partitionPredicate(p.fromMs, p.toMs))}\n)`;

  const hours: number[] = [];
  for (let h = Math.floor(p.fromMs / HOUR_MS) * HOUR_MS; h < p.toMs; h += HOUR_MS) hours.push(h);
  const compacted = hours.filter((h) => view.compacted.has(h));
  const raw = hours.filter((h) => !view.compacted.has(h));
  // A late file's key names its ingest hour. A late row was ingested after it happened, so files
  // ingested before the range's first hour hold none of it.
  const late = view.unfoldedLate.filter((key) => (hourOfKey(key) ?? Infinity) >= hours[0]!);
  const lateHours = [...new Set(late.map((key) => hourOfKey(key)!))].sort((a, b) => a - b);

  // The three tables have the same columns in the same order (lib/catalog.ts), so their rows union as they are.
  const select = (table: string, partitions: string, paths?: readonly string[]) => `SELECT * FROM ${table}\n    WHERE ${where(partitions, paths)}`;
  const compactedPart = compacted.length > 0 ? select(d.compactedTable!, hoursPredicate(compacted), compacted.flatMap((h) => view.compacted.get(h)!)) : undefined;
  const windowed = [
    ...(raw.length > 0 ? [select(d.eventsTable, hoursPredicate(raw))] : []),
    ...(late.length > 0 ? [select(d.lateTable!, hoursPredicate(lateHours), late)] : []),
    ...(late.length > 0 && compactedPart ? [compactedPart] : []),
  ];
  // The windowed part keeps its copy_number column; the compacted part gets the same constant, so the two union.
  const parts = [
    ...(compactedPart && late.length === 0 ? [compactedPart.replace('SELECT *', 'SELECT *, 1 AS copy_number')] : []),
    ...(windowed.length > 0
      ? [`SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY ingest_time) AS copy_number
    FROM (\n    ${windowed.join('\n    UNION ALL\n    ')}\n    )
  ) WHERE copy_number = 1`]
      : []),
  ];
  return `WITH events AS (\n  ${parts.join('\n  UNION ALL\n  ')}\n)`;
}

/** One row per session: which funnel steps it reached, each step requiring the ones before it. */
const SESSIONS_CTE = `sessions AS (
  SELECT session_id,
    bool_or(event_type = 'product_view') AS viewed,
    bool_or(event_type = 'add_to_cart') AS carted,
    bool_or(event_type = 'checkout') AS checked_out,
    bool_or(event_type = 'purchase') AS purchased
  FROM events GROUP BY session_id
)`;

/** count_if, spelled so that both engines count 0 over no rows (DuckDB's count_if gives NULL there, Trino's 0). */
const countIf = (condition: string) => `count(CASE WHEN ${condition} THEN 1 END)`;

const AGE_GROUP = `CASE WHEN user_age < 25 THEN '18-24' WHEN user_age < 35 THEN '25-34' WHEN user_age < 45 THEN '35-44'
    WHEN user_age < 55 THEN '45-54' WHEN user_age < 65 THEN '55-64' ELSE '65+' END`;

function breakdown(column: string): string {
  return `SELECT ${column} AS value,
  count(DISTINCT session_id) AS sessions,
  count(DISTINCT CASE WHEN event_type = 'purchase' THEN session_id END) AS converted_sessions,
  count(DISTINCT order_id) AS orders,
  coalesce(sum(revenue), 0) AS revenue
FROM events GROUP BY 1 ORDER BY sessions DESC, value`;
}

function top(columns: string, key: string): string {
  return `SELECT ${columns},
  ${countIf("event_type = 'product_view'")} AS views,
  ${countIf("event_type = 'add_to_cart'")} AS cart_adds,
  coalesce(sum(CASE WHEN event_type = 'purchase' THEN quantity END), 0) AS units,
  coalesce(sum(revenue), 0) AS revenue
FROM events WHERE ${key} IS NOT NULL GROUP BY ${columns} ORDER BY revenue DESC, views DESC, ${key} LIMIT 10`;
}

/** A named query's SQL; over the raw files (Athena) the view says which hours are compacted. */
export function querySql(name: QueryName, d: Dialect, p: QueryParameters, view: LakeView = EMPTY_VIEW): string {
  const events = eventsCte(d, p, view);
  switch (name) {
    case 'kpis':
      // Session figures as distinct counts over the one read, no per-session step: the sessions with a
      // cart and no purchase are those with a cart or a purchase, less those with a purchase.
      return `${events}
SELECT count(*) AS events, count(DISTINCT user_id) AS active_users, count(DISTINCT session_id) AS sessions,
  count(DISTINCT order_id) AS orders, coalesce(sum(revenue), 0) AS revenue,
  count(DISTINCT CASE WHEN event_type = 'purchase' THEN session_id END) AS converted_sessions,
  count(DISTINCT CASE WHEN event_type = 'add_to_cart' THEN session_id END) AS carted_sessions,
  count(DISTINCT CASE WHEN event_type IN ('add_to_cart', 'purchase') THEN session_id END)
    - count(DISTINCT CASE WHEN event_type = 'purchase' THEN session_id END) AS abandoned_carts
FROM events`;
    case 'events_per_minute':
      return `${events}
SELECT ${d.epochMs("date_trunc('minute', event_time)")} AS minute, event_type, count(*) AS events
FROM events GROUP BY 1, 2 ORDER BY 1, 2`;
    case 'revenue_over_time':
      return `${events}
SELECT ${d.epochMs(`date_trunc('${timeBucket(p)}', event_time)`)} AS bucket, count(DISTINCT order_id) AS orders, sum(revenue) AS revenue
FROM events WHERE event_type = 'purchase' GROUP BY 1 ORDER BY 1`;
    case 'funnel':
      return `${events}, ${SESSIONS_CTE}
SELECT count(*) AS sessions,
  ${countIf('viewed')} AS viewed,
  ${countIf('viewed AND carted')} AS carted,
  ${countIf('viewed AND carted AND checked_out')} AS checked_out,
  ${countIf('viewed AND carted AND checked_out AND purchased')} AS purchased
FROM sessions`;
    case 'traffic_sources':
      return `${events}\n${breakdown('traffic_source')}`;
    case 'devices':
      return `${events}\n${breakdown('device_type')}`;
    case 'demographics':
      // Three groupings of one read; grouping(x) = 0 marks the rows grouped by x (a NULL value stays a group of its own).
      return `${events}
SELECT
  CASE WHEN grouping(age_group) = 0 THEN 'age_group' WHEN grouping(user_gender) = 0 THEN 'gender' ELSE 'country' END AS dimension,
  CASE WHEN grouping(age_group) = 0 THEN age_group WHEN grouping(user_gender) = 0 THEN user_gender ELSE user_country END AS value,
  count(DISTINCT user_id) AS users, coalesce(sum(revenue), 0) AS revenue
FROM (
  SELECT ${AGE_GROUP} AS age_group, user_gender, user_country, user_id, revenue FROM events
) e
GROUP BY GROUPING SETS ((age_group), (user_gender), (user_country))
ORDER BY 1, 3 DESC, 2`;
    case 'top_products':
      return `${events}\n${top('product_id, product_category, product_brand', 'product_id')}`;
    case 'top_categories':
      return `${events}\n${top('product_category', 'product_category')}`;
    case 'freshness':
      return `${events}
SELECT ${d.epochMs('max(event_time)')} AS newest_event_time, ${d.epochMs('max(ingest_time)')} AS newest_ingest_time, count(*) AS events
FROM events`;
    case 'quarantine':
      // Quarantine lines carry ingest_time in ms; the partitions are by ingest hour.
      return `SELECT code, count(*) AS records, min(reason) AS example
FROM ${d.quarantineTable}
WHERE ${partitionPredicate(p.fromMs, p.toMs)} AND ingest_time >= ${p.fromMs} AND ingest_time < ${p.toMs}
GROUP BY code ORDER BY records DESC, code`;
  }
}
