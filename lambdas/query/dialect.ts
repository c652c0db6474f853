/**
 * Everything that differs between the two engines, in one place. The named
 * queries are written once against this interface; DuckDB runs them on a
 * laptop, Athena (engine v3, Trino) in the cloud.
 */
import { DEFAULT_VIEW_ROLLUPS, ROLLUP_NAMES, type RollupName } from './rollups.ts';

export interface Dialect {
  readonly name: 'duckdb' | 'athena';
  /** The relation holding the lake's event rows, with string partition columns year, month, day, hour. */
  readonly eventsTable: string;
  /** Over the raw files (not deduplicated): the compactor's files, partitioned by event hour like eventsTable. */
  readonly compactedTable?: string;
  /** Over the raw files: the late files, partitioned by ingest hour. */
  readonly lateTable?: string;
  /** The relation of a rollup's rows (lambdas/query/rollups.ts), with the hour partition columns. */
  rollupTable(name: RollupName): string;
  /** The relation of a rollup's rows for a query with no device or source filter (rollups.ts, defaultViewRows), where the engine keeps one. */
  defaultViewTable?(name: RollupName): string | undefined;
  /**
   * The local engine's count rows of regular users (regular-counts.ts), and the sessions rollup rows
   * of every other user: the rows whose ids the distinct counts read beside the count rows.
   */
  readonly counts?: {
    readonly table: string;
    readonly idRows: string;
    /** A count row's hour as a timestamp, from its partition columns. */
    readonly hourStart: string;
  };
  /** A lake key as the engine's `"$path"` column shows it, to pick the files of a compacted hour's committed generation. */
  objectPath?(key: string): string;
  /** The longest statement the engine takes, in bytes (Athena's query string limit); none if unbounded. */
  readonly maxStatementBytes?: number;
  /**
   * Pick files by their key from the hour partition on (`year=…/hour=…/<name>`), not by their whole
   * path: about half the characters, for a statement otherwise too long (fitStatement), at the price
   * of the engine no longer skipping the other files of those partitions before it reads them.
   */
  readonly pathsByName?: boolean;
  /** Whether eventsTable already holds one row per event_id, so queries need not remove copies. */
  readonly deduplicated: boolean;
  /** The relation holding quarantined records (reason, source coordinates, ingest_time in ms). */
  readonly quarantineTable: string;
  /** A literal comparable with event_time and ingest_time. */
  timestamp(ms: number): string;
  /** A timestamp expression as milliseconds since the epoch (BIGINT). */
  epochMs(expression: string): string;
}

/** A timestamp literal without zone, holding the instant's UTC wall-clock time. */
const wallClockUtc = (ms: number) => `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;

/** The local engine's table, which DuckDbLake keeps de-duplicated as files arrive. */
export function duckdbDialect(eventsTable = 'lake_events', quarantineTable = 'lake_quarantine', deduplicated = true): Dialect {
  return {
    name: 'duckdb',
    eventsTable,
    rollupTable: (name) => `lake_rollup_${name}`,
    defaultViewTable: (name) => (DEFAULT_VIEW_ROLLUPS.includes(name) ? `lake_rollup_${name}_default_view` : undefined),
    counts: { table: 'lake_rollup_counts', idRows: 'lake_rollup_id_rows', hourStart: 'make_timestamp(year, month, day, hour, 0, 0)' },
    deduplicated,
    quarantineTable,
    // The local table holds UTC wall-clock time (DuckDbLake), as Athena reads it. Over Parquet, which DuckDB
    // reads as TIMESTAMP WITH TIME ZONE, the literal is taken in the session's zone, which the engine sets to UTC.
    timestamp: wallClockUtc,
    epochMs: (e) => `epoch_ms(${e})`,
  };
}

export interface AthenaTables {
  readonly events: string;
  readonly compacted: string;
  readonly late: string;
  readonly quarantine: string;
}

/** The Glue tables' names (lib/catalog.ts creates them with these). */
export const ATHENA_TABLES: AthenaTables = { events: 'events', compacted: 'events_compacted', late: 'events_late', quarantine: 'quarantine' };

/** The rollups' Glue tables, one per rollup. */
export const ATHENA_ROLLUP_TABLES: Readonly<Record<RollupName, string>> = { sessions: 'rollup_sessions', activity: 'rollup_activity', products: 'rollup_products', product_minutes: 'rollup_product_minutes' };

/** Every Glue table the queries read. */
export const ALL_ATHENA_TABLES: readonly string[] = [ATHENA_TABLES.events, ATHENA_TABLES.compacted, ATHENA_TABLES.late, ATHENA_TABLES.quarantine, ...ROLLUP_NAMES.map((name) => ATHENA_ROLLUP_TABLES[name])];

export function athenaDialect(database: string, bucket: string, tables: AthenaTables = ATHENA_TABLES): Dialect {
  return {
    name: 'athena',
    eventsTable: `"${database}"."${tables.events}"`,
    compactedTable: `"${database}"."${tables.compacted}"`,
    lateTable: `"${database}"."${tables.late}"`,
    rollupTable: (name) => `"${database}"."${ATHENA_ROLLUP_TABLES[name]}"`,
    objectPath: (key) => `s3://${bucket}/${key}`,
    // Athena's limit on a query string (its service quotas).
    maxStatementBytes: 262_144,
    // The raw files as written: a re-sent event can sit in two of them; compacted hours hold each once.
    deduplicated: false,
    quarantineTable: `"${database}"."${tables.quarantine}"`,
    // Athena reads the same column as a timestamp without zone holding UTC wall-clock time.
    timestamp: wallClockUtc,
    // Wall-clock arithmetic, exact in BIGINT: to_unixtime() would read the value in the session's zone.
    epochMs: (e) => `date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', ${e})`,
  };
}
