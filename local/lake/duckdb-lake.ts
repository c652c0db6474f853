/**
 * The local query engine: DuckDB over the mirrored lake. Its native build reads
 * Parquet and JSON but not S3 without downloading an extension, so it reads the
 * files LakeMirror keeps in a local directory; extension downloads are off.
 *
 * Events are loaded into a native in-memory table that holds one row per
 * event_id and the columns the named queries read, so the queries need no
 * de-duplication window (the window was most of a refresh's cost). Rows come
 * from every event file: raw hours, compacted hours (of any generation) and
 * late files. An event is its event_id within its event hour (docs/architecture.md,
 * "Compaction", what an event is), and the table is maintained hour by hour
 * from the changes LakeMirror's sync hands on (it detects them; this applies
 * them): new files append the rows whose event_id that hour does not hold yet;
 * when a file is replaced or removed (a retried batch with other boundaries, the
 * compactor deleting what it replaced), or a new one brings a copy that arrived
 * before the one held and differs from it, every hour it held rows of is rebuilt
 * from the files now there. Because each hour is the union of whatever files
 * hold it, de-duplicated, the answer does not depend on where the compactor is
 * in its protocol. Each change is one transaction on a writer connection, so a
 * query sees the table before or after it, never half.
 *
 * Rollups (lambdas/query/rollups.ts) are tables beside it, grouped from it hour
 * by hour: an hour is rolled up once it has ended (stragglers may still come), and
 * from then on every change to the hour's events rebuilds its rollup rows in the
 * same transaction, so a rollup always equals the events it replaces. The users whose every
 * event lies in one rolled-up hour are counted by numbers, not ids (regular-counts.ts): a
 * transaction that adds events takes back, before it commits, the counted users they share an
 * id with, and the hours rolled up since are counted after each load.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LAKE_COLUMNS, QUARANTINE_COLUMNS, type LakeColumnType } from '../../lambdas/common/lake-columns.ts';
import { LAKE_PREFIXES, PARTITION_COLUMNS } from '../../lambdas/common/pipeline-names.ts';
import { hourStartOf, type LakeView } from '../../lambdas/common/compaction-manifest.ts';
import { HOUR_MS } from '../../lambdas/common/lake-timing.ts';
import { duckdbDialect, type Dialect } from '../../lambdas/query/dialect.ts';
import { columnsReadByAnyQuery } from '../../lambdas/query/columns-read.ts';
import type { QueryEngine, Row } from '../../lambdas/query/query-api.ts';
import { COUNT_COLUMNS, COUNTED_ID_COLUMNS, countStatements, forgetCountsStatements, idRowsStatements, uncountStatements, type CountTables } from '../../lambdas/query/regular-counts.ts';
import { DEFAULT_VIEW_ROLLUPS, defaultViewRows, keptRollups, rollupFromEvents, type RollupName } from '../../lambdas/query/rollups.ts';
import type { ObjectChanges } from './s3-objects.ts';

// Instants are held as UTC wall-clock TIMESTAMPs, as Athena reads them, not as the TIMESTAMPTZ DuckDB
// reads from Parquet: a TIMESTAMPTZ's date_trunc goes through the ICU calendar, which made
// events_per_minute 3-5 times slower over the last hour (measured); casting once as rows load is cheaper.
const DUCK_TYPES: Record<LakeColumnType, string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  double: 'DOUBLE',
  timestamp_ms: 'TIMESTAMP',
};
// The tables hold the partition columns as numbers: a query names whole hours by them (the string
// literals it compares them with are cast once), and comparing strings over every row of a day's
// rollups was most of a scan (measured).
const PARTITIONS = PARTITION_COLUMNS.map((c) => [c, 'SMALLINT'] as const);
const QUARANTINE_PARTITIONS = PARTITION_COLUMNS.map((c) => [c, 'VARCHAR'] as const);
// Only the columns the named queries read, plus event_id to keep one row per event:
// the rest (URLs, user agents, lineage) would more than double the table's memory.
const TABLE_COLUMN_NAMES = new Set(['event_id', ...columnsReadByAnyQuery(duckdbDialect())]);
const TABLE_COLUMNS = LAKE_COLUMNS.filter((c) => TABLE_COLUMN_NAMES.has(c.name));
const EVENT_TABLE_COLUMNS = [...TABLE_COLUMNS.map((c) => [c.name, DUCK_TYPES[c.type]] as const), ...PARTITIONS];
const QUARANTINE_DUCK_COLUMNS = QUARANTINE_COLUMNS.map((c) => [c.name, DUCK_TYPES[c.type]] as const);

/** A relation with these columns and no rows. */
function emptyRelation(columns: readonly (readonly [string, string])[]): string {
  return `SELECT ${columns.map(([name, type]) => `NULL::${type} AS ${name}`).join(', ')} WHERE false`;
}

const CHECKPOINT_AFTER_FILES = 100;
/** The counted users' ids by hash (regular-counts.ts). */
const COUNTED_IDS = 'lake_counted_ids';

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The prefixes whose Parquet files hold event rows: raw hours, compacted hours, late files. */
const EVENT_PREFIXES = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late];
const isEventFile = (key: string) => key.endsWith('.parquet') && EVENT_PREFIXES.some((prefix) => key.startsWith(prefix));
const isQuarantineFile = (key: string) => key.endsWith('.jsonl') && key.startsWith(LAKE_PREFIXES.quarantine);

/**
 * The event hour (`year=2026/month=11/day=23/hour=09`) of a raw or compacted file, whose rows
 * all lie in the hour of its key; undefined for a late file (partitioned by ingest hour,
 * its rows in any earlier hour) and for anything outside the layout.
 */
export function hourOfKey(key: string): string | undefined {
  return /^(?:events|compacted)\/(year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2})\/[^/]+\.parquet$/.exec(key)?.[1];
}

/** The SQL predicate selecting one hour partition. */
function hourPredicate(hour: string): string {
  return hour
    .split('/')
    .map((part) => {
      const [column, value] = part.split('=') as [string, string];
      return `${column} = ${quote(value)}`;
    })
    .join(' AND ');
}

/** The partition columns from each row's own event time (a late file's path names its ingest hour, not its rows' hours). */
export const PARTITIONS_FROM_EVENT_TIME = PARTITION_COLUMNS.map((c, i) => `strftime(event_time::TIMESTAMP, '${['%Y', '%m', '%d', '%H'][i]}') AS ${c}`).join(', ');

export interface LakeChanges {
  /** Hours whose files were all read again: one was replaced or removed, or a new one brought an earlier copy of an event the hour held. */
  readonly rebuiltHours: number;
  /** New files whose rows were appended. */
  readonly appendedFiles: number;
  /** Hours whose files could not be read (a damaged file): left as they were, tried again next time. */
  readonly failedHours: readonly string[];
}

export interface DuckDbLakeOptions {
  readonly log?: (entry: Record<string, unknown>) => void;
  /** The clock that says which hours have ended, and so are rolled up. @default Date.now */
  readonly now?: () => number;
  /** Keep no rollups (a baseline for tests and the benchmark). @default true */
  readonly rollups?: boolean;
  /**
   * Keep what only the dashboard's one statement reads (SUFFIX_ONLY), for tests that run the statement
   * on this engine. The engine answers by the named queries, so it keeps none of it by default.
   * @default false
   */
  readonly suffixRollups?: boolean;
  /** The files the copy holds at start (LakeMirror.keys()), loaded before open returns. @default none */
  readonly files?: readonly string[];
  /**
   * Connections that run queries side by side. A dashboard's queries are small, and one query on both
   * cores of the bench machine left much of the second idle: its 24-hour refresh took 494 ms on two
   * connections of one thread against 554 ms on one of two (docs/benchmarks.md, "Dashboard refresh").
   * DuckDB runs a query on the thread that sent it plus a pool of `threads` - 1 it shares with every
   * other query, so while serving the pool is made smaller by one per reader more than one: all the
   * readers busy keep as many threads busy as DuckDB's default, one per core.
   * @default 2, or 1 on one core: each running query also holds one of Node's four libuv threads, which the writer and file reads need too
   */
  readonly readers?: number;
}

/** Reader connections by default (DuckDbLakeOptions.readers). */
const DEFAULT_READERS = 2;
/** A sync that brings more files than this is a bulk load, run on all of DuckDB's threads. */
const BULK_FILES = 100;

export class DuckDbLake implements QueryEngine {
  readonly dialect: Dialect = duckdbDialect();
  /** Hours (partition paths) whose rollup rows are in the rollup tables. */
  private readonly rolledUp = new Set<string>();
  /** Rolled-up hours whose regular users were counted since their rollup rows were last made (regular-counts.ts). */
  private readonly counted = new Set<string>();
  /** The event files the mirror holds (keys relative to the directory) and the event hours each holds rows of. */
  private readonly files = new Map<string, readonly string[]>();
  /** Work handed on and not done yet, kept until it succeeds: a load that failed is tried again at the next apply. */
  private readonly hoursToRebuild = new Set<string>();
  private readonly filesToAppend = new Set<string>();
  /** Late files that could not be read yet, so the hours they hold rows of are not known. */
  private readonly unreadLateFiles = new Set<string>();
  private readonly quarantineKeys = new Set<string>();
  /** Whether the quarantine view reads files (undefined: not created yet). */
  private quarantineFiles: boolean | undefined;
  private filesSinceCheckpoint = 0;
  /** Whether the files held at start are loaded. */
  private loaded = false;
  /** Readers no query holds, and the queries waiting for one. */
  private readonly idleReaders: DuckDBConnection[];
  private readonly waitingForReader: { resolve: (reader: DuckDBConnection) => void; reject: (error: Error) => void }[] = [];
  /** The readers' queries in flight. */
  private readonly running = new Map<DuckDBConnection, Promise<unknown>>();
  /** Set once close() is called: it settles when DuckDB is closed. */
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly readers: readonly DuckDBConnection[],
    private readonly writer: DuckDBConnection,
    readonly directory: string,
    private readonly options: DuckDbLakeOptions,
    /** DuckDB's threads: all of them for a bulk load, fewer while the readers serve (DuckDbLakeOptions.readers). */
    private readonly threads: { readonly all: number; readonly serving: number },
  ) {
    this.idleReaders = [...readers];
  }

  private log(entry: Record<string, unknown>): void {
    this.options.log?.(entry);
  }

  /** A table over the copy in directory, loaded with options.files (LakeMirror.keys(): what the copy holds). */
  static async open(directory: string, options: DuckDbLakeOptions = {}): Promise<DuckDbLake> {
    const readerCount = options.readers ?? Math.min(availableParallelism(), DEFAULT_READERS);
    if (!Number.isInteger(readerCount) || readerCount < 1) throw new Error(`readers must be a whole number of connections, at least 1, got ${readerCount}`);
    const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const readers = await Promise.all(Array.from({ length: readerCount }, () => db.connect()));
    const writer = await db.connect();
    for (const c of [...readers, writer]) await c.run("SET TimeZone = 'UTC'");
    // DuckDB's default: a thread per core (as it counts them).
    const allThreads = Number((await writer.runAndReadAll(`SELECT current_setting('threads') AS n`)).getRowObjects()[0]!.n);
    const threads = { all: allThreads, serving: Math.max(1, allThreads - readerCount + 1) };
    // The files are local: a second copy of their bytes in DuckDB's cache is only memory spent.
    await writer.run('SET enable_external_file_cache = false');
    await writer.run(`CREATE TABLE lake_events (${EVENT_TABLE_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
    const dialect = duckdbDialect();
    type Columns = readonly (readonly [string, string])[];
    const kept = keptRollups(options.suffixRollups ?? false);
    const rollupColumns = (name: RollupName): Columns => [...kept.find((r) => r.name === name)!.columns.map((c) => [c.name, DUCK_TYPES[c.type]] as const), ...PARTITIONS];
    const tables: [string, Columns][] = [
      // The sessions rollup marks the rows the count rows stand for; the others' rows are the id rows too (regular-counts.ts).
      ...kept.map(({ name }): [string, Columns] => [dialect.rollupTable(name), [...rollupColumns(name), ...(name === 'sessions' ? [['counted', 'BOOLEAN DEFAULT false'] as const] : [])]]),
      [dialect.counts!.idRows, rollupColumns('sessions')],
      [dialect.counts!.table, COUNT_COLUMNS],
      [COUNTED_IDS, COUNTED_ID_COLUMNS],
    ];
    for (const [table, columns] of tables) await writer.run(`CREATE TABLE ${table} (${columns.map(([n, t]) => `${n} ${t}`).join(', ')})`);
    // The default view's rows have the columns of their rollup's, but the source.
    for (const name of DEFAULT_VIEW_ROLLUPS) {
      await writer.run(`CREATE TABLE ${dialect.defaultViewTable!(name)} AS SELECT * EXCLUDE (traffic_source) FROM ${dialect.rollupTable(name)} LIMIT 0`);
    }
    const lake = new DuckDbLake(db, readers, writer, directory, options, threads);
    await lake.apply({ added: options.files ?? [], changed: [], removed: [] });
    return lake;
  }

  /**
   * Applies one mirror sync's changes. Call it after every sync, with no changes too:
   * an hour that failed to load is tried again.
   */
  async apply(changes: ObjectChanges): Promise<LakeChanges> {
    // A load of many files (at start, or a first sync of a copy that held none) has every thread: queries wait for it anyway.
    const bulk = changes.added.length + changes.changed.length > BULK_FILES || !this.loaded;
    if (bulk) await this.writer.run(`SET threads = ${this.threads.all}`);
    try {
      await this.take(changes);
      const result = await this.loadEvents();
      await this.refreshQuarantine();
      return result;
    } finally {
      if (bulk) await this.writer.run(`SET threads = ${this.threads.serving}`);
    }
  }

  /** Turns changed keys into work: hours a replaced or removed file held rows of are rebuilt, new files appended. */
  private async take({ added, changed, removed }: ObjectChanges): Promise<void> {
    for (const key of [...changed, ...removed]) {
      for (const hour of this.files.get(key) ?? []) this.hoursToRebuild.add(hour);
      this.files.delete(key);
      this.filesToAppend.delete(key);
      this.unreadLateFiles.delete(key);
      this.quarantineKeys.delete(key);
    }
    for (const key of [...added, ...changed]) if (isQuarantineFile(key)) this.quarantineKeys.add(key);

    // The hours each new file holds rows of: from the key for raw and compacted files, read
    // from the rows for a late file (one that cannot be read waits, and is tried again).
    const isNew = new Set(added);
    const arrived = [...added, ...changed].filter(isEventFile);
    for (const key of new Set([...this.unreadLateFiles, ...arrived])) {
      const hours = hourOfKey(key) !== undefined ? [hourOfKey(key)!] : key.startsWith(LAKE_PREFIXES.late) ? await this.hoursIn(key) : [];
      if (!hours) {
        this.unreadLateFiles.add(key);
        continue;
      }
      this.unreadLateFiles.delete(key);
      this.files.set(key, hours);
      // A new file's rows are appended; a replaced one's (or one read only now) rebuild its hours.
      if (isNew.has(key)) this.filesToAppend.add(key);
      else for (const hour of hours) this.hoursToRebuild.add(hour);
    }
  }

  private async loadEvents(): Promise<LakeChanges> {
    const filesOf = (hour: string) => [...this.files].filter(([, hours]) => hours.includes(hour)).map(([key]) => key);
    const appendByHour = new Map<string, string[]>();
    for (const key of this.filesToAppend) for (const hour of this.files.get(key)!) if (!this.hoursToRebuild.has(hour)) appendByHour.set(hour, [...(appendByHour.get(hour) ?? []), key]);
    // New files' rows are appended first (an hour they bring an earlier copy to is rebuilt below instead).
    let appendedFiles = 0;
    for (const [hour, files] of appendByHour) {
      if (await this.append(hour, files)) appendedFiles += files.length;
      else this.hoursToRebuild.add(hour);
    }

    // Each hour on its own: a file DuckDB cannot read holds back its hour only, which is
    // rebuilt from its files at the next apply.
    const rebuild = [...this.hoursToRebuild];
    const failedHours = new Set<string>();
    for (const hour of rebuild) {
      const files = filesOf(hour);
      const ok = await this.transaction([
        `DELETE FROM lake_events WHERE ${hourPredicate(hour)}`,
        ...(files.length > 0 ? [`INSERT INTO lake_events BY NAME ${this.distinctRows(files, hour)}`] : []),
        ...this.rollupStatements(hour),
        ...this.uncountStatements(`(SELECT user_id, session_id, order_id FROM lake_events WHERE ${hourPredicate(hour)})`),
      ]);
      if (ok) this.hoursToRebuild.delete(hour);
      else failedHours.add(hour);
    }
    this.filesToAppend.clear();
    // An hour that got rows in this sync waits for one that brings it none: stragglers come in the first
    // seconds after an hour's end, and each one after its roll-up rebuilds the hour (about 2 s at 10M
    // events, against 0.2-0.3 s to append to an hour not rolled up). At start every ended hour rolls up.
    const quiet = (hour: string) => !this.loaded || !(appendByHour.has(hour) || rebuild.includes(hour));
    await this.rollUpEndedHours([...new Set([...this.files.values()].flat())].filter((h) => !failedHours.has(h) && quiet(h)));
    this.loaded = true;
    await this.countRegularUsers();

    // After a checkpoint the table takes about a third less memory (measured); one costs about a
    // second at 10M events, so it runs once enough has changed. It cannot run while a query holds a
    // transaction open: then it is simply tried at a later refresh.
    this.filesSinceCheckpoint += appendedFiles + rebuild.length;
    if (this.filesSinceCheckpoint >= CHECKPOINT_AFTER_FILES) {
      await this.writer.run('CHECKPOINT').then(
        () => (this.filesSinceCheckpoint = 0),
        () => undefined,
      );
    }
    return { rebuiltHours: rebuild.filter((h) => !failedHours.has(h)).length, appendedFiles, failedHours: [...failedHours] };
  }

  /**
   * Rolls up the hours, of these, that have ended and are not rolled up yet: one transaction each.
   * Not only settled ones, as the compactor must wait for: every transaction that later changes a
   * rolled-up hour's events (a straggler, a late row, a replaced file) rebuilds its rollup rows, so an
   * hour is rolled up at the first sync after its end that brings it nothing, and a range's previous
   * hour is read from its events only for those seconds.
   */
  private async rollUpEndedHours(hours: readonly string[]): Promise<void> {
    if (this.options.rollups === false) return;
    const now = (this.options.now ?? Date.now)();
    for (const hour of [...hours].sort()) {
      if (this.rolledUp.has(hour) || hourStartOf(hour) + HOUR_MS > now) continue;
      // Named as rolled up only once its rows are committed: a query planned meanwhile reads its events.
      if (await this.transaction(this.rollupStatements(hour, true))) this.rolledUp.add(hour);
    }
  }

  /**
   * Statements that make an hour's rollup rows those of its events now (none for an hour not rolled
   * up, unless it is being rolled up). Its new sessions rows are not counted, so its count rows go
   * too, until countRegularUsers counts the hour again.
   */
  private rollupStatements(hour: string, rollingUp = false): string[] {
    if (!rollingUp && !this.rolledUp.has(hour)) return [];
    this.counted.delete(hour);
    const partitions = hour.split('/').map((part) => `${quote(part.split('=')[1]!)} AS ${part.split('=')[0]!}`).join(', ');
    return [
      ...forgetCountsStatements(this.countTables, `(${hourPredicate(hour)})`),
      ...keptRollups(this.options.suffixRollups ?? false).flatMap(({ name, columns }) => [
        `DELETE FROM ${this.dialect.rollupTable(name)} WHERE ${hourPredicate(hour)}`,
        `INSERT INTO ${this.dialect.rollupTable(name)} BY NAME SELECT r.*, ${partitions} FROM (${rollupFromEvents(name, `(SELECT * FROM lake_events WHERE ${hourPredicate(hour)}) e`, columns.map((c) => c.name))}) r`,
      ]),
      // From the rows just made: the default view's (rollups.ts, defaultViewRows).
      ...DEFAULT_VIEW_ROLLUPS.flatMap((name) => [
        `DELETE FROM ${this.dialect.defaultViewTable!(name)} WHERE ${hourPredicate(hour)}`,
        `INSERT INTO ${this.dialect.defaultViewTable!(name)} BY NAME ${defaultViewRows(name, `(SELECT * FROM ${this.dialect.rollupTable(name)} WHERE ${hourPredicate(hour)}) r`, PARTITION_COLUMNS)}`,
      ]),
      ...idRowsStatements(this.countTables, `(${hourPredicate(hour)})`),
    ];
  }

  private get countTables(): CountTables {
    return { events: 'lake_events', sessions: this.dialect.rollupTable('sessions'), counts: this.dialect.counts!.table, idRows: this.dialect.counts!.idRows, countedIds: COUNTED_IDS };
  }

  /** In the transaction that adds events (`arrived`: their ids), the counted users they share an id with stop being counted. */
  private uncountStatements(arrived: string): string[] {
    return this.options.rollups === false ? [] : uncountStatements(this.countTables, arrived);
  }

  /**
   * Counts the regular users of every rolled-up hour not counted yet, in one transaction: one scan
   * of the events for all of them (at start, every hour of the lake).
   */
  private async countRegularUsers(): Promise<void> {
    const hours = [...this.rolledUp].filter((hour) => !this.counted.has(hour));
    if (hours.length === 0) return;
    if (await this.transaction(countStatements(this.countTables, `(${hours.map(hourPredicate).join(' OR ')})`))) for (const hour of hours) this.counted.add(hour);
  }

  /** The hours the rollup tables answer; this engine's table holds late rows too, so none is pending. */
  lakeView(): Promise<LakeView> {
    return Promise.resolve({ compacted: new Map(), rollups: new Map([...this.rolledUp].map((hour) => [hourStartOf(hour), 'tables' as const])), unfoldedLate: [] });
  }

  /** The event hours a late file holds rows of, or undefined if it cannot be read now. */
  private async hoursIn(key: string): Promise<string[] | undefined> {
    try {
      const result = await this.writer.runAndReadAll(
        `SELECT DISTINCT ${PARTITIONS_FROM_EVENT_TIME} FROM read_parquet(${quote(join(this.directory, key))}, hive_partitioning = false)`,
      );
      return result.getRowObjects().map((r) => PARTITION_COLUMNS.map((c) => `${c}=${String(r[c])}`).join('/'));
    } catch (error) {
      this.log({ level: 'WARN', message: 'a late file could not be read; tried again at the next refresh', key, error: (error as Error).message.split('\n')[0] });
      return undefined;
    }
  }

  /**
   * One row per event_id of this hour from these files: the first copy to arrive, as every reader keeps;
   * copies that arrived in the same millisecond in order of their source, so that a sender's copies that
   * differ (the schema cannot forbid it) are picked the same way at every load.
   */
  private distinctRows(keys: readonly string[], hour: string): string {
    const paths = keys.map((k) => quote(join(this.directory, k))).join(', ');
    const columns = EVENT_TABLE_COLUMNS.map(([name]) => name).join(', ');
    return `SELECT ${columns} FROM (
      SELECT ${columns}, row_number() OVER (PARTITION BY event_id ORDER BY ingest_time, source_topic, source_partition, source_offset) AS copy_number FROM (
        SELECT *, ${PARTITIONS_FROM_EVENT_TIME}
        FROM read_parquet([${paths}], hive_partitioning = false, union_by_name = true)
      ) WHERE ${hourPredicate(hour)}
    ) WHERE copy_number = 1`;
  }

  /**
   * Appends these new files' rows of the hour: the events it does not hold yet, in one transaction.
   * False if the hour must be rebuilt instead: a file brings a copy that arrived no later than the one
   * held and differs from it in a column the table keeps (it keeps no source columns, so a copy of the
   * same millisecond counts, and the rebuild picks by source, as every reader does; identical copies,
   * such as a compacted file's, change nothing); or the files cannot be read, or the append failed (the
   * rebuild then fails too, is logged, and is retried at the next apply).
   */
  private async append(hour: string, keys: readonly string[]): Promise<boolean> {
    const count = async (relation: string) => Number((await this.writer.runAndReadAll(`SELECT count(*) AS n FROM ${relation}`)).getRowObjects()[0]!.n);
    const inHour = `lake_events WHERE ${hourPredicate(hour)}`;
    const differs = EVENT_TABLE_COLUMNS.map(([name]) => `n.${name} IS DISTINCT FROM e.${name}`).join(' OR ');
    try {
      // The new rows read once, beside the ingest time of the copy the hour holds of each.
      await this.writer.run(
        `CREATE OR REPLACE TEMP TABLE incoming AS
         SELECT n.*, e.event_id IS NOT NULL AS held, e.ingest_time AS held_ingest_time FROM (${this.distinctRows(keys, hour)}) n
         LEFT JOIN (SELECT event_id, ingest_time FROM ${inHour}) e ON e.event_id = n.event_id`,
      );
      const noLater = '(n.ingest_time > n.held_ingest_time) IS NOT TRUE';
      if ((await count(`incoming n WHERE n.held AND ${noLater}`)) > 0) {
        // Rare (a re-send in another partition, a compacted file): compare those copies in every column.
        if ((await count(`incoming n JOIN (SELECT * FROM ${inHour}) e ON e.event_id = n.event_id WHERE ${noLater} AND (${differs})`)) > 0) return false;
      }
      if ((await count('incoming WHERE NOT held')) === 0) return true;
      return await this.transaction([
        'CREATE OR REPLACE TEMP TABLE arrived AS SELECT * EXCLUDE (held, held_ingest_time) FROM incoming WHERE NOT held',
        'INSERT INTO lake_events BY NAME SELECT * FROM arrived',
        ...this.rollupStatements(hour),
        ...this.uncountStatements('arrived'),
        'DROP TABLE arrived',
      ]);
    } catch {
      return false;
    } finally {
      await this.writer.run('DROP TABLE IF EXISTS incoming');
    }
  }

  /** Runs the statements as one transaction; false (rolled back, reason logged) if one fails. */
  private async transaction(statements: readonly string[]): Promise<boolean> {
    await this.writer.run('BEGIN TRANSACTION');
    try {
      for (const sql of statements) await this.writer.run(sql);
      await this.writer.run('COMMIT');
      return true;
    } catch (error) {
      await this.writer.run('ROLLBACK');
      this.log({ level: 'WARN', message: 'lake files could not be loaded; tried again at the next refresh', error: (error as Error).message.split('\n')[0] });
      return false;
    }
  }

  /** Quarantine is small: a view over the JSON lines, re-pointed when the first file appears. */
  private async refreshQuarantine(): Promise<void> {
    const quarantine = join(this.directory, 'quarantine');
    const hasFiles = this.quarantineKeys.size > 0;
    if (hasFiles === this.quarantineFiles) return;
    const quarantineColumns = `{${QUARANTINE_DUCK_COLUMNS.map(([name, type]) => `${name}: '${type}'`).join(', ')}}`;
    // An empty lake (nothing landed yet) is a view with the right columns and no rows, not an error.
    await this.writer.run(
      hasFiles
        ? `CREATE OR REPLACE VIEW lake_quarantine AS SELECT * FROM read_json(${quote(`${quarantine}/**/*.jsonl`)}, format = 'newline_delimited', columns = ${quarantineColumns}, hive_partitioning = true, hive_types_autocast = false)`
        : `CREATE OR REPLACE VIEW lake_quarantine AS ${emptyRelation([...QUARANTINE_DUCK_COLUMNS, ...QUARANTINE_PARTITIONS])}`,
    );
    this.quarantineFiles = hasFiles;
  }

  async run(sql: string): Promise<Row[]> {
    if (this.closing) throw lakeClosed();
    const reader = this.idleReaders.pop() ?? (await new Promise<DuckDBConnection>((resolve, reject) => this.waitingForReader.push({ resolve, reject })));
    const query = reader.runAndReadAll(sql);
    this.running.set(reader, query);
    try {
      const result = await query;
      return result.getRowObjects().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
    } catch (error) {
      // close() interrupted it.
      throw this.closing ? lakeClosed() : error;
    } finally {
      this.running.delete(reader);
      const next = this.waitingForReader.shift();
      if (next) next.resolve(reader);
      else this.idleReaders.push(reader);
    }
  }

  /** Refuses the queries waiting for a reader, stops those running, then closes DuckDB. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const waiting of this.waitingForReader.splice(0)) waiting.reject(lakeClosed());
      // A connection closed under a running query leaves the query's promise unsettled for ever
      // (seen in CI: a test awaiting one timed out), so each is interrupted and awaited first.
      for (const reader of this.running.keys()) reader.interrupt();
      await Promise.allSettled(this.running.values());
      for (const reader of this.readers) reader.closeSync();
      this.writer.closeSync();
      this.instance.closeSync();
    })();
    return this.closing;
  }
}

const lakeClosed = () => new Error('the local lake is closed');

/** Counts and epoch milliseconds come back as BigInt; every figure here fits a double exactly. */
function plain(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
