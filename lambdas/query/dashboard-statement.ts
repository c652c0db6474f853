/**
 * Every panel of the dashboard in one statement, for an engine that bills each scan (Athena, $5
 * per TB read, at least 10 MB a statement). Run as ten queries, a refresh read the range's events
 * ten times, and over raw files each read carried `event_id` for the de-duplication window: about
 * four fifths of what a refresh was billed. One statement reads each file once: the events (one
 * window), each rollup's table for the whole hours it covers (and the files of a range's partial
 * first hour, in scans of their own: suffixOf), and the quarantine's, whose rows are unioned in (as a
 * statement of its own, its few kilobytes were billed the 10 MB minimum).
 *
 * Two aggregations in one pipeline (no CTE is used twice: Trino inlines a CTE at every use, and
 * every use is another scan):
 * 1. the events grouped into the three rollups' rows with GROUPING SETS, one set per rollup,
 *    exactly as `rollupFromEvents` groups them, and unioned with the rollups' own rows;
 * 2. those rows grouped once more, one grouping set per panel, each aggregate reading the rows
 *    of its rollup only (`kind`).
 * A panel's figures are the sums, maxima and distinct counts its own query computes over the same
 * rows, so the answers are the same (checked against the named queries on DuckDB and Trino). The
 * funnel is the one figure a named query takes a second pass for (the steps each session reached
 * over all its rows); here it comes from distinct counts of sessions under a condition on one row
 * at a time, by inclusion-exclusion: the sessions that reached steps A and B are those that
 * reached A, plus those that reached B, less those that reached either. Exact, in integers.
 *
 * The local engine keeps count rows that stand for ids (regular-counts.ts), which this statement
 * does not read: it runs the named queries, as a scan there costs nothing but time; so does a
 * request whose statement would be too long for the engine (dashboardStatement).
 */
import type { LakeView } from '../common/compaction-manifest.ts';
import { HOUR_MS } from '../common/lake-timing.ts';
import type { Dialect } from './dialect.ts';
import { AGE_GROUP, eventsCte, fitStatement, known, quarantineRows, rollupTableRows, splitRange, timeBucket, total, type QueryName } from './named-queries.ts';
import type { QueryParameters } from './parameters.ts';
import { rollupColumns, SUFFIX_ONLY, type RollupColumn, type RollupName } from './rollups.ts';

type Row = Record<string, unknown>;

/**
 * The dashboard's statement for this engine and request, or undefined where the named queries
 * answer instead: on an engine with count rows (the local engine), and where the statement is
 * longer than the engine takes, even picking files by name (fitStatement). Athena takes 256 KiB; a
 * statement names every committed rollup file of its whole hours (three an hour), so a range of
 * more than about 27 days, every hour rolled up, is too long by path, and its named queries, each
 * naming one rollup's files, are not.
 */
export function dashboardStatement(d: Dialect, p: QueryParameters, view: LakeView): string | undefined {
  if (d.counts !== undefined) return undefined;
  const { sql, fits } = fitStatement(d, (dialect) => dashboardSql(dialect, p, view));
  return fits ? sql : undefined;
}

/** The rollups the statement groups the events into and reads for whole hours (`product_minutes` answers a suffix only). */
export const STATEMENT_ROLLUPS = ['sessions', 'activity', 'products'] as const;
type StatementRollup = (typeof STATEMENT_ROLLUPS)[number];
/** The rollups a range's partial first hour is read from (suffixOf). */
export const SUFFIX_ROLLUPS = ['sessions', 'activity', 'product_minutes'] as const;
type SuffixRollup = (typeof SUFFIX_ROLLUPS)[number];

/**
 * The columns the panels read of each rollup. Not the `sessions` rollup's events (kpis counts the
 * `activity` rollup's, the same events), nor its revenue minute and last times, which only pick a
 * suffix's rows (suffixRows): read for whole hours they would be billed for nothing.
 */
const STATEMENT_COLUMNS: Readonly<Record<StatementRollup, readonly RollupColumn[]>> = {
  sessions: rollupColumns('sessions').filter((c) => c.name !== 'events' && !(SUFFIX_ONLY.columns as readonly string[]).includes(c.name)),
  activity: rollupColumns('activity'),
  products: rollupColumns('products'),
};

/** Every column of the statement's rollups once, by name: a name two rollups share is the same SQL in both (checked here, once). */
const COLUMNS: readonly RollupColumn[] = (() => {
  const byName = new Map<string, RollupColumn>();
  for (const name of STATEMENT_ROLLUPS) {
    for (const c of STATEMENT_COLUMNS[name]) {
      const seen = byName.get(c.name);
      if (seen && (seen.sql !== c.sql || seen.type !== c.type)) throw new Error(`rollups disagree on the column ${c.name}: one statement cannot union their rows`);
      byName.set(c.name, c);
    }
  }
  return [...byName.values()];
})();

const SQL_TYPES = { string: 'varchar', int32: 'integer', int64: 'bigint', double: 'double', timestamp_ms: 'timestamp' } as const;

/** One key column per rollup that the others do not have: grouping() of the three tells the rollup a row of step 1 belongs to. */
const KIND_KEYS: Readonly<Record<StatementRollup, string>> = { sessions: 'session_id', activity: 'event_minute', products: 'product_id' };

/**
 * What grouping(...arguments) gives for the rows of the grouping set that holds `keys`: a bit per
 * argument, the first the highest, set where the set does not group by it (the same in DuckDB and Trino).
 */
const groupingValue = (arguments_: readonly string[], keys: readonly string[]) =>
  arguments_.reduce((value, name, i) => (keys.includes(name) ? value : value | (1 << (arguments_.length - 1 - i))), 0);

/** The events grouped into the rows of all three rollups at once (step 1), each row named by its rollup. */
function rollupsFromEvents(): string {
  const kindKeys = STATEMENT_ROLLUPS.map((name) => KIND_KEYS[name]);
  const kinds = STATEMENT_ROLLUPS.map((name) => `WHEN ${groupingValue(kindKeys, [KIND_KEYS[name]])} THEN '${name}'`);
  const derived = COLUMNS.filter((c) => c.key && c.sql !== c.name).map((c) => `${c.sql} AS ${c.name}`);
  const sets = STATEMENT_ROLLUPS.map((name) => `(${STATEMENT_COLUMNS[name].filter((c) => c.key).map((c) => c.name).join(', ')})`);
  return `SELECT CASE grouping(${kindKeys.join(', ')}) ${kinds.join(' ')} END AS kind,
    ${COLUMNS.map((c) => (c.key ? c.name : `${c.sql} AS ${c.name}`)).join(', ')}
  FROM (SELECT *, ${derived.join(', ')} FROM events) e
  GROUP BY GROUPING SETS (${sets.join(', ')})`;
}

/**
 * Rows of a rollup's table for these hours as rows of `kind` in the columns of step 1: a column of
 * `kind` is `values`' SQL for it, or the column itself; every other column is NULL. `where` picks rows.
 */
function storedRows(
  name: RollupName,
  kind: StatementRollup,
  { d, p, view, hours, values = {}, where = [] }: { d: Dialect; p: QueryParameters; view: LakeView; hours: readonly number[]; values?: Readonly<Record<string, string>>; where?: readonly string[] },
): string {
  const own = new Set(STATEMENT_COLUMNS[kind].map((c) => c.name));
  const column = (c: RollupColumn) => (!own.has(c.name) ? `CAST(NULL AS ${SQL_TYPES[c.type]})` : (values[c.name] ?? c.name));
  const columns = COLUMNS.map((c) => (column(c) === c.name ? c.name : `${column(c)} AS ${c.name}`));
  return rollupTableRows(name, [`'${kind}' AS kind`, ...columns], d, p, view, hours, undefined, where);
}

/**
 * The range's partial first hour, where the rollups answer it: a range that starts inside an hour
 * and goes on past it covers the hour's suffix from `fromMs`, which holds a session exactly when the
 * session's last event of the hour is at or after `fromMs`, and the step of the funnel it reached
 * exactly when that step's last time is; its users and orders likewise (rollups.ts, the `sessions`
 * rollup's last times). Sums need the minute: the suffix's whole minutes, from `minuteMs` on, are
 * read from the rollup rows of those minutes (the `activity` rollup's events, the `product_minutes`
 * rollup's products, the `sessions` rows that carry revenue, each of one minute: `revenue_minute`),
 * and the minute's part before `minuteMs` from the events. Each rollup must answer the filters, and
 * the hour must have been rolled up with last times (not before 2026-12-05) and hold no late rows.
 */
export function suffixOf(p: QueryParameters, view: LakeView): { readonly hour: number; readonly minuteMs: number } | undefined {
  const hour = Math.floor(p.fromMs / HOUR_MS) * HOUR_MS;
  const minuteMs = Math.ceil(p.fromMs / 60_000) * 60_000;
  // A range from the hour's start holds it whole; one from its last minute has no whole minute of it.
  if (hour === p.fromMs || minuteMs === hour + HOUR_MS || hour + HOUR_MS > p.toMs) return undefined;
  const entry = view.rollups.get(hour);
  if (entry === undefined || (entry !== 'tables' && entry.product_minutes === undefined)) return undefined;
  const answered = SUFFIX_ROLLUPS.every((name) => splitRange({ ...p, fromMs: hour }, view, name).rolledUp.includes(hour));
  return answered ? { hour, minuteMs } : undefined;
}

/**
 * The rollup columns a statement reads, what Athena bills for (the benchmark's cost model): of each
 * rollup for whole hours, and of each for a suffix (those its SQL names other than as an alias).
 */
export function rollupColumnsRead(d: Dialect): { readonly whole: Readonly<Record<StatementRollup, readonly string[]>>; readonly suffix: Readonly<Record<SuffixRollup, readonly string[]>> } {
  const view: LakeView = { compacted: new Map(), rollups: new Map([[0, 'tables']]), unfoldedLate: [] };
  const selects = suffixRows(d, { fromMs: 0, toMs: HOUR_MS }, view, { hour: 0, minuteMs: 60_000 });
  const named = (name: SuffixRollup, sql: string) => rollupColumns(name).map((c) => c.name).filter((column) => new RegExp(`\\b${column}\\b`).test(sql.replace(/\bAS \w+/g, '')));
  return {
    whole: Object.fromEntries(STATEMENT_ROLLUPS.map((name) => [name, STATEMENT_COLUMNS[name].map((c) => c.name)])) as Record<StatementRollup, string[]>,
    suffix: Object.fromEntries(SUFFIX_ROLLUPS.map((name, i) => [name, named(name, selects[i]!)])) as Record<SuffixRollup, string[]>,
  };
}

/** The rollups' rows of a suffix's whole minutes (suffixOf), as rows of step 1. */
function suffixRows(d: Dialect, p: QueryParameters, view: LakeView, { hour, minuteMs }: NonNullable<ReturnType<typeof suffixOf>>): string[] {
  const from = d.timestamp(minuteMs);
  const at = { d, p, view, hours: [hour] };
  // A session's row counts in the suffix if it has an event there; a step if it has one of the step's. Its
  // revenue and order minute lie in one minute (both are grouping keys), so they are inside or before it.
  const reached = (last: string) => `CASE WHEN ${last} >= ${from} THEN 1 ELSE 0 END`;
  const steps = { product_views: reached('last_view'), cart_adds: reached('last_cart'), checkouts: reached('last_checkout'), purchases: reached('last_purchase') };
  return [
    storedRows('sessions', 'sessions', { ...at, values: steps, where: [`last_time >= ${from}`] }),
    storedRows('activity', 'activity', { ...at, where: [`event_minute >= ${from}`] }),
    // Its device is only where it is a bot (rollups.ts), and it has no source: no panel reads either of a products row.
    storedRows('product_minutes', 'products', { ...at, values: { device_type: 'CAST(NULL AS varchar)', traffic_source: 'CAST(NULL AS varchar)' }, where: [`event_minute >= ${from}`] }),
  ];
}

/**
 * Step 2's grouping keys, each the value of its own rollup's rows and NULL for the others, so a
 * panel's grouping set groups its rollup's rows alone (the NULL group, the other rollups' rows, is
 * left out). `paired` keys group beside the one before them.
 */
function panelKeys(d: Dialect, p: QueryParameters): { readonly name: string; readonly sql: string; readonly paired?: boolean }[] {
  const of = (kind: RollupName, sql: string, condition = '') => `CASE WHEN kind = '${kind}'${condition} THEN ${sql} END`;
  return [
    { name: 'k_source', sql: of('sessions', known('traffic_source')) },
    { name: 'k_device', sql: of('sessions', known('device_type')) },
    { name: 'k_age', sql: of('sessions', AGE_GROUP) },
    { name: 'k_gender', sql: of('sessions', known('user_gender')) },
    { name: 'k_country', sql: of('sessions', known('user_country')) },
    // A purchase's rows carry its minute; no other event's do.
    { name: 'k_bucket', sql: of('sessions', d.epochMs(`date_trunc('${timeBucket(p)}', order_minute)`), ' AND order_minute IS NOT NULL') },
    { name: 'k_minute', sql: of('activity', d.epochMs('event_minute')) },
    { name: 'k_type', sql: of('activity', 'event_type'), paired: true },
    // Every product event has a product_id, no other event does.
    { name: 'k_product', sql: of('products', 'product_id', ' AND product_id IS NOT NULL') },
    { name: 'k_category', sql: of('products', known('product_category'), ' AND product_id IS NOT NULL') },
  ];
}

/** panel_set of the quarantine's rows: one no grouping set gives (grouping() is never negative). */
const QUARANTINE_SET = -1;

/** The grouping sets of step 2, each named by the panels it answers. */
const SETS: readonly (readonly string[])[] = [
  [], // kpis, funnel, freshness
  ['k_source'], // traffic_sources
  ['k_device'], // devices
  ['k_age'], // demographics
  ['k_gender'], // demographics
  ['k_country'], // demographics
  ['k_bucket'], // revenue_over_time
  ['k_minute', 'k_type'], // events_per_minute
  ['k_product'], // top_products
  ['k_category'], // top_categories
];

/** The funnel's conditions on one row, in step order: a session reached a step if one of its rows has the step's event. */
const STEP_ROWS = ['product_views > 0', 'cart_adds > 0', 'checkouts > 0', 'purchases > 0'];
/** Every non-empty subset of the steps, as a bit mask (bit i: step i). */
const STEP_SUBSETS = Array.from({ length: 2 ** STEP_ROWS.length - 1 }, (_, i) => i + 1);

/** Step 2's aggregates, each over the rows of one rollup. */
function panelAggregates(d: Dialect): string[] {
  const over = (kind: RollupName, sql: string) => `CASE WHEN kind = '${kind}' THEN ${sql} END`;
  const sessionsWhere = (condition: string) => `count(DISTINCT ${over('sessions', `CASE WHEN ${condition} THEN session_id END`)})`;
  return [
    `count(DISTINCT ${over('sessions', 'user_id')}) AS s_users`,
    `count(DISTINCT ${over('sessions', 'session_id')}) AS s_sessions`,
    `count(DISTINCT ${over('sessions', 'order_id')}) AS s_orders`,
    `sum(${over('sessions', 'revenue')}) AS s_revenue`,
    `${sessionsWhere('purchases > 0')} AS s_converted`,
    `${sessionsWhere('cart_adds > 0')} AS s_carted`,
    `${sessionsWhere('cart_adds > 0 OR purchases > 0')} AS s_carted_or_converted`,
    ...STEP_SUBSETS.map((mask) => `${sessionsWhere(STEP_ROWS.filter((_, i) => mask & (1 << i)).join(' OR '))} AS s_steps_${mask}`),
    `sum(${over('activity', 'events')}) AS a_events`,
    `${d.epochMs(`max(${over('activity', 'newest_event_time')})`)} AS a_newest_event_time`,
    `${d.epochMs(`max(${over('activity', 'newest_ingest_time')})`)} AS a_newest_ingest_time`,
    `${known(`max(${over('products', 'product_category')})`)} AS p_category`,
    `${known(`max(${over('products', 'product_brand')})`)} AS p_brand`,
    `${total(over('products', 'product_views'))} AS p_views`,
    `${total(over('products', 'cart_adds'))} AS p_cart_adds`,
    `${total(over('products', 'units'))} AS p_units`,
    `coalesce(sum(${over('products', 'revenue')}), 0) AS p_revenue`,
  ];
}

/** Step 2's arguments of grouping(): a key per set (a paired key goes with the one before it). */
const groupingArguments = (keys: ReturnType<typeof panelKeys>) => keys.filter((k) => !k.paired).map((k) => k.name);

/** The dashboard's statement: its rows are one per group of each panel's grouping set, named by `panel_set` (dashboardPanels reads them). */
export function dashboardSql(d: Dialect, p: QueryParameters, view: LakeView): string {
  // One split for all three rollups: the hours each of them covers (they differ only under a filter one of them cannot answer).
  const splits = STATEMENT_ROLLUPS.map((name) => splitRange(p, view, name));
  const rolledUp = splits[0]!.rolledUp.filter((h) => splits.every((s) => s.rolledUp.includes(h)));
  const suffix = suffixOf(p, view);
  // A suffix's hour is read from the events only before its first whole minute, if at all.
  const fromEvents = splits[0]!.fromEvents
    .concat(splits[0]!.rolledUp.filter((h) => !rolledUp.includes(h)))
    .filter((h) => h !== suffix?.hour || suffix.minuteMs > p.fromMs)
    .sort((a, b) => a - b);
  const rolledUpBySuffix = suffix ? { fromMs: suffix.minuteMs, toMs: suffix.hour + HOUR_MS } : undefined;
  const parts = [
    ...(fromEvents.length > 0 ? [rollupsFromEvents()] : []),
    ...(rolledUp.length > 0 ? STATEMENT_ROLLUPS.map((name) => storedRows(name, name, { d, p, view, hours: rolledUp })) : []),
    ...(suffix ? suffixRows(d, p, view, suffix) : []),
  ];
  const keys = panelKeys(d, p);
  const args = groupingArguments(keys);
  const aggregates = panelAggregates(d);
  const productSets = [groupingValue(args, ['k_product']), groupingValue(args, ['k_category'])];
  const grouped = `SELECT grouping(${args.join(', ')}) AS panel_set, ${keys.map((k) => k.name).join(', ')},
  ${aggregates.join(',\n  ')}
FROM (
  SELECT *, ${keys.map((k) => `${k.sql} AS ${k.name}`).join(',\n    ')}
  FROM rolled_up
) r
GROUP BY GROUPING SETS (${SETS.map((keys) => `(${keys.join(', ')})`).join(', ')})`;
  // The quarantine's rows after the panels', in columns of their own: NULL in each of the panels' (keys, aggregates, panel_rank).
  const panelNulls = [...keys, ...aggregates, 'panel_rank'].map(() => 'NULL');
  // The top ten of each product panel, ranked as top() orders them, over the groups of a product (the NULL group holds other rows).
  return `WITH ${fromEvents.length > 0 ? `${eventsCte(d, p, fromEvents, view, rolledUpBySuffix)},\n` : ''}rolled_up AS (
  ${parts.join('\n  UNION ALL\n  ')}
)
SELECT *, CAST(NULL AS varchar) AS q_code, CAST(NULL AS bigint) AS q_records, CAST(NULL AS varchar) AS q_example FROM (
  SELECT g.*, row_number() OVER (PARTITION BY panel_set, k_product IS NULL AND k_category IS NULL ORDER BY p_revenue DESC, p_views DESC, k_product, k_category) AS panel_rank
  FROM (
${grouped}
  ) g
) ranked
WHERE panel_set NOT IN (${productSets.join(', ')}) OR panel_rank <= 10
UNION ALL
SELECT ${QUARANTINE_SET}, ${panelNulls.join(', ')}, code, records, example FROM (
${quarantineRows(d, { fromMs: p.fromMs, toMs: p.toMs })}
) q`;
}

/**
 * Text in the engines' order for ORDER BY: by UTF-8 bytes, which is by code point. JavaScript's `<`
 * compares UTF-16 units, which puts a character above U+FFFF before U+E000 to U+FFFF.
 */
export function byText(a: unknown, b: unknown): number {
  const [x, y] = [[...String(a)], [...String(b)]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const difference = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return x.length - y.length;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Each panel's rows from the statement's rows, with the columns, order and limits of its named query (before derive()). */
export function dashboardPanels(rows: readonly Row[], d: Dialect, p: QueryParameters): Record<QueryName, Row[]> {
  const keys = panelKeys(d, p);
  const args = groupingArguments(keys);
  const ofSet = (setKeys: readonly string[]) => {
    const id = groupingValue(args, setKeys);
    // A set's NULL group holds the other rollups' rows.
    return rows.filter((r) => Number(r.panel_set) === id && setKeys.every((k) => r[k] !== null && r[k] !== undefined));
  };
  const totals = ofSet([])[0] ?? {};
  const steps = (mask: number) => num(totals[`s_steps_${mask}`]);
  /** The sessions that reached every step in `mask`, from the counts of those that reached any of a subset (inclusion-exclusion). */
  const reachedAll = (mask: number) =>
    STEP_SUBSETS.filter((s) => (s & mask) === s).reduce((n, s) => n + (popcount(s) % 2 === 1 ? 1 : -1) * steps(s), 0);
  const breakdown = (key: string) =>
    ofSet([key])
      .map((r) => ({ value: r[key], sessions: num(r.s_sessions), converted_sessions: num(r.s_converted), orders: num(r.s_orders), revenue: num(r.s_revenue) }))
      .sort((a, b) => b.sessions - a.sessions || byText(a.value, b.value));
  const demographics = [
    ['age_group', 'k_age'],
    ['gender', 'k_gender'],
    ['country', 'k_country'],
  ].flatMap(([dimension, key]) => ofSet([key!]).map((r) => ({ dimension, value: r[key!], users: num(r.s_users), revenue: num(r.s_revenue) })));
  const top = (key: string) => ofSet([key]).sort((a, b) => num(b.p_revenue) - num(a.p_revenue) || num(b.p_views) - num(a.p_views) || byText(a[key], b[key]));
  const productFigures = (r: Row) => ({ views: num(r.p_views), cart_adds: num(r.p_cart_adds), units: num(r.p_units), revenue: num(r.p_revenue) });
  return {
    kpis: [
      {
        // The `activity` rows hold the same events as the `sessions` rows; a suffix's `sessions` rows, not its events (suffixRows).
        events: num(totals.a_events),
        active_users: num(totals.s_users),
        sessions: num(totals.s_sessions),
        orders: num(totals.s_orders),
        revenue: num(totals.s_revenue),
        converted_sessions: num(totals.s_converted),
        carted_sessions: num(totals.s_carted),
        abandoned_carts: num(totals.s_carted_or_converted) - num(totals.s_converted),
      },
    ],
    events_per_minute: ofSet(['k_minute', 'k_type'])
      .map((r) => ({ minute: Number(r.k_minute), event_type: r.k_type, events: num(r.a_events) }))
      .sort((a, b) => a.minute - b.minute || byText(a.event_type, b.event_type)),
    revenue_over_time: ofSet(['k_bucket'])
      .map((r) => ({ bucket: Number(r.k_bucket), orders: num(r.s_orders), revenue: orNull(r.s_revenue) }))
      .sort((a, b) => a.bucket - b.bucket),
    funnel: [
      {
        sessions: num(totals.s_sessions),
        viewed: reachedAll(0b0001),
        carted: reachedAll(0b0011),
        checked_out: reachedAll(0b0111),
        purchased: reachedAll(0b1111),
      },
    ],
    traffic_sources: breakdown('k_source'),
    devices: breakdown('k_device'),
    demographics: demographics.sort((a, b) => byText(a.dimension, b.dimension) || b.users - a.users || byText(a.value, b.value)),
    top_products: top('k_product').map((r) => ({ product_id: r.k_product, product_category: r.p_category, product_brand: r.p_brand, ...productFigures(r) })),
    top_categories: top('k_category').map((r) => ({ product_category: r.k_category, ...productFigures(r) })),
    freshness: [{ newest_event_time: orNull(totals.a_newest_event_time), newest_ingest_time: orNull(totals.a_newest_ingest_time), events: num(totals.a_events) }],
    quarantine: rows
      .filter((r) => Number(r.panel_set) === QUARANTINE_SET)
      .map((r) => ({ code: r.q_code, records: num(r.q_records), example: r.q_example }))
      .sort((a, b) => b.records - a.records || byText(a.code, b.code)),
  };
}

function popcount(n: number): number {
  let bits = 0;
  for (let m = n; m > 0; m >>= 1) bits += m & 1;
  return bits;
}
