/**
 * Counts that stand for ids: how the local engine answers a distinct count over a day
 * without reading a row per session.
 *
 * Why: the sessions rollup (rollups.ts) keeps each id a distinct count needs, so a
 * 24-hour refresh is a hash of distinct session and user ids over about a row per
 * session: seconds at 10M events (docs/benchmarks.md), linear in sessions.
 *
 * What: most users are *regular*: every event the lake holds of them, of their
 * sessions and of their orders lies in one hour, with one device, source, country,
 * age and gender, no other user's events share those sessions or orders, and each
 * order lies in one session (the count rows add orders up per session). No row
 * outside that hour's rows of the user can hold any of those ids, so a range that
 * covers the hour counts them exactly by numbers: the local engine marks the sessions
 * rollup rows of regular users `counted`, adds them up into count rows (grouped by hour,
 * those keys with the age as its bracket, and the session's funnel flags), and copies
 * the rows not counted to a table of id rows; the queries (named-queries.ts) add the
 * counts of the whole hours in a range to the distinct counts over everything else (the
 * id rows, and the events at the range's edges). The two parts never share an id, so the sum is the distinct count: exact,
 * as the rollups are. A user is counted on one row only (its first session's), so
 * users add up over any filter of those keys.
 *
 * When an id of a counted user appears again anywhere (a returning user, a session
 * over an hour boundary, a late event), the transaction that adds the event makes the
 * user's rows id rows again and subtracts its part from the count rows
 * (uncountStatements), so no query ever sees the id in both parts. Only the local engine does this: it holds
 * every event, so it can tell regular ids; the compactor and Athena cannot without an
 * index of the lake's ids (docs/architecture.md, "Rollups").
 */

import { AGE_GROUP } from './named-queries.ts';

/** The keys a regular user has one value of: the filters the count rows answer, and the demographics. */
const USER_KEYS = ['device_type', 'traffic_source', 'user_country', 'user_age', 'user_gender'] as const;
const PARTITIONS = ['year', 'month', 'day', 'hour'] as const;
/** An hour and a user's keys: one value of these per regular user. */
const HOUR_AND_USER_KEYS = [...PARTITIONS, ...USER_KEYS].join(', ');
/** A session's funnel flags, as the funnel query computes them from its rows. */
const FLAGS = ['viewed', 'carted', 'checked_out', 'purchased'] as const;
/**
 * The count rows' keys: the age as the bracket the dashboard shows (the queries read no finer), so
 * an hour has a few thousand count rows, not one per session.
 */
const COUNT_KEYS = [...PARTITIONS, 'device_type', 'traffic_source', 'user_country', 'age_group', 'user_gender', ...FLAGS] as const;
/**
 * What a count row adds up. Orders and revenue over all events (kpis, the breakdowns), and over
 * purchase events only (revenue over time: a purchase row's minute is its only one with a time).
 */
const MEASURES = ['events', 'sessions', 'users', 'orders', 'revenue', 'purchase_orders', 'purchase_revenue'] as const;
const isMoney = (measure: string) => measure.endsWith('revenue');

/** The count table's columns and their DuckDB types. */
export const COUNT_COLUMNS: readonly (readonly [string, string])[] = [
  ...COUNT_KEYS.map((c) => [c, (FLAGS as readonly string[]).includes(c) ? 'BOOLEAN' : (PARTITIONS as readonly string[]).includes(c) ? 'SMALLINT' : 'VARCHAR'] as const),
  ...MEASURES.map((c) => [c, isMoney(c) ? 'DOUBLE' : 'BIGINT'] as const),
];

/** Which counted user each id (user, session, order: their hashes) belongs to, to find quickly the users arriving events share an id with. */
export const COUNTED_ID_COLUMNS: readonly (readonly [string, string])[] = [
  ['id_hash', 'UBIGINT'],
  ['user_id', 'VARCHAR'],
];

export interface CountTables {
  readonly events: string;
  /** The sessions rollup, every row, with a `counted` column. */
  readonly sessions: string;
  readonly counts: string;
  /** The sessions rollup rows not counted (the rows the queries read ids from). */
  readonly idRows: string;
  readonly countedIds: string;
}

/**
 * Count rows from the counted sessions rollup rows that match `where`: per session first (its
 * flags, events, orders and revenue; the user on its first session only), then per COUNT_KEYS.
 * The same SQL makes an hour's rows and what a user taken back held in them.
 */
function countRowsSql(sessions: string, where: string): string {
  return `SELECT ${COUNT_KEYS.map((c) => (c === 'age_group' ? `${AGE_GROUP} AS age_group` : c)).join(', ')},
    sum(events)::BIGINT AS events, count(*)::BIGINT AS sessions, count(CASE WHEN first_of_user THEN 1 END)::BIGINT AS users,
    sum(orders)::BIGINT AS orders, sum(revenue) AS revenue, sum(purchase_orders)::BIGINT AS purchase_orders, sum(purchase_revenue) AS purchase_revenue
  FROM (
    SELECT ${HOUR_AND_USER_KEYS}, session_id,
      bool_or(product_views > 0) AS viewed, bool_or(cart_adds > 0) AS carted,
      bool_or(checkouts > 0) AS checked_out, bool_or(purchases > 0) AS purchased,
      sum(events) AS events, count(DISTINCT order_id) AS orders, sum(revenue) AS revenue,
      count(DISTINCT CASE WHEN order_minute IS NOT NULL THEN order_id END) AS purchase_orders,
      sum(CASE WHEN order_minute IS NOT NULL THEN revenue END) AS purchase_revenue,
      row_number() OVER (PARTITION BY any_value(user_id) ORDER BY session_id) = 1 AS first_of_user
    FROM ${sessions} WHERE counted AND ${where}
    GROUP BY ${HOUR_AND_USER_KEYS}, session_id
  )
  GROUP BY ALL`;
}

/**
 * The users of an hour's events (`hour`: a predicate on the events table) that are regular over
 * every event the table holds: all their events in one hour with one set of keys, no other
 * user in their sessions or orders (the schema requires user and session ids), and each order in
 * one session (count rows add up orders per session: an order in two would count twice).
 */
export function regularUsersSql(eventsTable: string, hour: string): string {
  return `WITH here AS (SELECT DISTINCT user_id, session_id, order_id FROM ${eventsTable} WHERE ${hour}),
  linked AS (
    SELECT user_id, session_id, order_id, ${HOUR_AND_USER_KEYS} FROM ${eventsTable}
    WHERE user_id IN (SELECT user_id FROM here) OR session_id IN (SELECT session_id FROM here) OR order_id IN (SELECT order_id FROM here)
  ),
  shared AS (
    SELECT session_id, NULL AS order_id FROM linked GROUP BY session_id HAVING count(DISTINCT user_id) <> 1 OR count(user_id) <> count(*)
    UNION ALL
    SELECT NULL, order_id FROM linked WHERE order_id IS NOT NULL GROUP BY order_id
    HAVING count(DISTINCT user_id) <> 1 OR count(user_id) <> count(*) OR count(DISTINCT session_id) <> 1
  )
  SELECT user_id FROM linked WHERE user_id IN (SELECT user_id FROM here) GROUP BY user_id HAVING count(DISTINCT (${HOUR_AND_USER_KEYS})) = 1
  EXCEPT
  SELECT user_id FROM linked
  WHERE session_id IN (SELECT session_id FROM shared WHERE session_id IS NOT NULL) OR order_id IN (SELECT order_id FROM shared WHERE order_id IS NOT NULL)`;
}

/** Statements that drop the count rows and id hashes of these hours (`hour`: a predicate on the sessions and count tables), before their rows change. */
export function forgetCountsStatements(t: CountTables, hour: string): string[] {
  return [
    `DELETE FROM ${t.countedIds} WHERE user_id IN (SELECT user_id FROM ${t.sessions} WHERE counted AND ${hour})`,
    `DELETE FROM ${t.counts} WHERE ${hour}`,
  ];
}

/** Statements that make these hours' id rows their sessions rollup rows not counted (after the rows or their marks change). */
export function idRowsStatements(t: CountTables, hour: string): string[] {
  return [`DELETE FROM ${t.idRows} WHERE ${hour}`, `INSERT INTO ${t.idRows} BY NAME SELECT * EXCLUDE (counted) FROM ${t.sessions} WHERE ${hour} AND NOT counted`];
}

/** Counts these hours' regular users (`hour`: a predicate on every table): their rows counted, and no others; the hours' count rows and id rows. */
export function countStatements(t: CountTables, hour: string): string[] {
  return [
    ...forgetCountsStatements(t, hour),
    `UPDATE ${t.sessions} SET counted = (user_id IN (${regularUsersSql(t.events, hour)})) WHERE ${hour}`,
    ...idRowsStatements(t, hour),
    `INSERT INTO ${t.counts} BY NAME ${countRowsSql(t.sessions, hour)}`,
    `INSERT INTO ${t.countedIds}
    SELECT DISTINCT hash(id), user_id FROM (
      SELECT user_id AS id, user_id FROM ${t.sessions} WHERE counted AND ${hour}
      UNION ALL SELECT session_id, user_id FROM ${t.sessions} WHERE counted AND ${hour}
      UNION ALL SELECT order_id, user_id FROM ${t.sessions} WHERE counted AND ${hour} AND order_id IS NOT NULL
    )`,
  ];
}

/**
 * After events arrived (`arrived`: a relation with their user_id, session_id and order_id), in the
 * same transaction: every counted user one of them shares an id with is no longer regular, so its
 * rows become plain id rows and what it held in the count rows is taken off them (a row left with
 * no session goes). Ids are found by hash: a collision only takes back a user that could have
 * stayed counted, which costs speed, never exactness.
 */
export function uncountStatements(t: CountTables, arrived: string): string[] {
  const sameKeys = COUNT_KEYS.map((c) => `${t.counts}.${c} IS NOT DISTINCT FROM taken.${c}`).join(' AND ');
  return [
    `CREATE OR REPLACE TEMP TABLE uncounted AS SELECT DISTINCT user_id FROM ${t.countedIds} WHERE id_hash IN (
      SELECT hash(user_id) FROM ${arrived} UNION SELECT hash(session_id) FROM ${arrived} UNION SELECT hash(order_id) FROM ${arrived} WHERE order_id IS NOT NULL
    )`,
    // Their rows, read once: a scan of every sessions row by user id is most of the cost (measured).
    `CREATE OR REPLACE TEMP TABLE taken_rows AS SELECT * FROM ${t.sessions} WHERE counted AND user_id IN (SELECT user_id FROM uncounted)`,
    `CREATE OR REPLACE TEMP TABLE taken AS ${countRowsSql('taken_rows', 'true')}`,
    `UPDATE ${t.counts} SET ${MEASURES.map((m) => `${m} = ${t.counts}.${m} - ${isMoney(m) ? `coalesce(taken.${m}, 0)` : `taken.${m}`}`).join(', ')}
    FROM taken WHERE ${sameKeys}`,
    `DELETE FROM ${t.counts} WHERE sessions = 0`,
    `INSERT INTO ${t.idRows} BY NAME SELECT * EXCLUDE (counted) FROM taken_rows`,
    `UPDATE ${t.sessions} SET counted = false WHERE counted AND user_id IN (SELECT user_id FROM uncounted)`,
    `DELETE FROM ${t.countedIds} WHERE user_id IN (SELECT user_id FROM uncounted)`,
    'DROP TABLE uncounted',
    'DROP TABLE taken_rows',
    'DROP TABLE taken',
  ];
}
