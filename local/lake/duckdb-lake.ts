/**
 * The local query engine: DuckDB over the mirrored lake. Its native build reads
 * Parquet and JSON but not S3 without downloading an extension, so it reads the
 * files LakeMirror keeps in a local directory; extension downloads are off.
 *
 * Events are loaded into a native in-memory table that holds one row per
 * event_id and the columns the named queries read, so the queries need no
 * de-duplication window (the window was most of a refresh's cost). Rows come
 * from every event file: raw hours, compacted hours (of any generation) and
 * late files. A copy of an event always has the event's own time, so it lies in
 * the same event hour as the original, and the table is maintained hour by hour:
 * new files append the rows whose event_id that hour does not hold yet; when a
 * file is replaced or removed (a retried batch with other boundaries, the
 * compactor deleting what it replaced), every hour it held rows of is rebuilt
 * from the files now there. Because each hour is the union of whatever files
 * hold it, de-duplicated, the answer does not depend on where the compactor is
 * in its protocol. Each change is one transaction on a writer connection, so a
 * query sees the table before or after it, never half.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LAKE_COLUMNS, QUARANTINE_COLUMNS, type LakeColumnType } from '../../lambdas/common/lake-columns.ts';
import { LAKE_PREFIXES, PARTITION_COLUMNS } from '../../lambdas/common/pipeline-names.ts';
import { duckdbDialect, type Dialect } from '../../lambdas/query/dialect.ts';
import { columnsReadByAnyQuery } from '../../lambdas/query/columns-read.ts';
import type { QueryEngine, Row } from '../../lambdas/query/query-api.ts';

const DUCK_TYPES: Record<LakeColumnType, string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  double: 'DOUBLE',
  timestamp_ms: 'TIMESTAMPTZ',
};
const PARTITIONS = PARTITION_COLUMNS.map((c) => [c, 'VARCHAR'] as const);
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

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The prefixes whose Parquet files hold event rows: raw hours, compacted hours, late files. */
const EVENT_PREFIXES = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late];

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
  /** Hours whose files were all read again because one was replaced or removed. */
  readonly rebuiltHours: number;
  /** New files whose rows were appended. */
  readonly appendedFiles: number;
  /** Hours whose files could not be read (a damaged file): left as they were, tried again next time. */
  readonly failedHours: readonly string[];
}

export class DuckDbLake implements QueryEngine {
  readonly dialect: Dialect = duckdbDialect();
  /** Loaded event files (key relative to the directory): the mtime they were loaded at and the event hours they hold rows of. */
  private readonly loaded = new Map<string, { readonly mtime: number; readonly hours: readonly string[] }>();
  /** Whether the quarantine view reads files (undefined: not created yet). */
  private quarantineFiles: boolean | undefined;
  private filesSinceCheckpoint = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly reader: DuckDBConnection,
    private readonly writer: DuckDBConnection,
    readonly directory: string,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  static async open(directory: string, log: (entry: Record<string, unknown>) => void = () => undefined): Promise<DuckDbLake> {
    const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const [reader, writer] = [await db.connect(), await db.connect()];
    for (const c of [reader, writer]) await c.run("SET TimeZone = 'UTC'");
    // The files are local: a second copy of their bytes in DuckDB's cache is only memory spent.
    await writer.run('SET enable_external_file_cache = false');
    await writer.run(`CREATE TABLE lake_events (${EVENT_TABLE_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
    const lake = new DuckDbLake(db, reader, writer, directory, log);
    await lake.refresh();
    return lake;
  }

  /** Brings the table up to date with the files now in the directory (call after each mirror sync). */
  async refresh(): Promise<LakeChanges> {
    const changes = await this.refreshEvents();
    await this.refreshQuarantine();
    return changes;
  }

  private async refreshEvents(): Promise<LakeChanges> {
    const present = new Map<string, number>();
    for (const prefix of EVENT_PREFIXES) for (const [key, mtime] of listFiles(join(this.directory, prefix), '.parquet', this.directory)) present.set(key, mtime);

    // The hours each present file holds rows of: known for loaded files, from the key for raw and
    // compacted files, read from the rows for a new late file (one that cannot be read waits).
    const hoursOf = new Map<string, readonly string[]>();
    const rebuild = new Set<string>();
    const added: string[] = [];
    for (const [key, mtime] of present) {
      const loaded = this.loaded.get(key);
      if (loaded && loaded.mtime === mtime) {
        hoursOf.set(key, loaded.hours);
        continue;
      }
      const hours = hourOfKey(key) !== undefined ? [hourOfKey(key)!] : key.startsWith(LAKE_PREFIXES.late) ? await this.hoursIn(key) : [];
      if (!hours) continue;
      hoursOf.set(key, hours);
      if (loaded) for (const hour of [...loaded.hours, ...hours]) rebuild.add(hour);
      else added.push(key);
    }
    for (const [key, { hours }] of this.loaded) if (!present.has(key)) for (const hour of hours) rebuild.add(hour);

    const filesOf = (hour: string) => [...hoursOf].filter(([, hours]) => hours.includes(hour)).map(([key]) => key);
    const appendByHour = new Map<string, string[]>();
    for (const key of added) for (const hour of hoursOf.get(key)!) if (!rebuild.has(hour)) appendByHour.set(hour, [...(appendByHour.get(hour) ?? []), key]);

    // Each hour on its own: a file DuckDB cannot read holds back its hour only. A file counts as
    // loaded once every hour it holds rows of succeeded, so a failed hour is tried again next time.
    const failedHours = new Set<string>();
    for (const hour of rebuild) {
      const files = filesOf(hour);
      const ok = await this.transaction([
        `DELETE FROM lake_events WHERE ${hourPredicate(hour)}`,
        ...(files.length > 0 ? [`INSERT INTO lake_events BY NAME ${this.distinctRows(files, hour)}`] : []),
      ]);
      if (!ok) failedHours.add(hour);
    }
    let appendedFiles = 0;
    for (const [hour, files] of appendByHour) {
      const ok = await this.transaction([
        `INSERT INTO lake_events BY NAME
         SELECT n.* FROM (${this.distinctRows(files, hour)}) n
         WHERE n.event_id NOT IN (SELECT event_id FROM lake_events WHERE ${hourPredicate(hour)})`,
      ]);
      if (ok) appendedFiles += files.length;
      else failedHours.add(hour);
    }
    for (const key of [...this.loaded.keys()]) if (!present.has(key) && !this.loaded.get(key)!.hours.some((h) => failedHours.has(h))) this.loaded.delete(key);
    for (const [key, hours] of hoursOf) if (!hours.some((h) => failedHours.has(h))) this.loaded.set(key, { mtime: present.get(key)!, hours });

    // After a checkpoint the table takes about a third less memory (measured); one costs about a
    // second at 10M events, so it runs once enough has changed. It cannot run while a query holds a
    // transaction open: then it is simply tried at a later refresh.
    this.filesSinceCheckpoint += appendedFiles + rebuild.size;
    if (this.filesSinceCheckpoint >= CHECKPOINT_AFTER_FILES) {
      await this.writer.run('CHECKPOINT').then(
        () => (this.filesSinceCheckpoint = 0),
        () => undefined,
      );
    }
    return { rebuiltHours: [...rebuild].filter((h) => !failedHours.has(h)).length, appendedFiles, failedHours: [...failedHours] };
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

  /** One row per event_id of this hour from these files: the first copy to arrive, as every reader keeps. */
  private distinctRows(keys: readonly string[], hour: string): string {
    const paths = keys.map((k) => quote(join(this.directory, k))).join(', ');
    const columns = EVENT_TABLE_COLUMNS.map(([name]) => name).join(', ');
    return `SELECT ${columns} FROM (
      SELECT ${columns}, row_number() OVER (PARTITION BY event_id ORDER BY ingest_time) AS copy_number FROM (
        SELECT *, ${PARTITIONS_FROM_EVENT_TIME}
        FROM read_parquet([${paths}], hive_partitioning = false, union_by_name = true)
      ) WHERE ${hourPredicate(hour)}
    ) WHERE copy_number = 1`;
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
    const hasFiles = listFiles(quarantine, '.jsonl', this.directory).size > 0;
    if (hasFiles === this.quarantineFiles) return;
    const quarantineColumns = `{${QUARANTINE_DUCK_COLUMNS.map(([name, type]) => `${name}: '${type}'`).join(', ')}}`;
    // An empty lake (nothing landed yet) is a view with the right columns and no rows, not an error.
    await this.writer.run(
      hasFiles
        ? `CREATE OR REPLACE VIEW lake_quarantine AS SELECT * FROM read_json(${quote(`${quarantine}/**/*.jsonl`)}, format = 'newline_delimited', columns = ${quarantineColumns}, hive_partitioning = true, hive_types_autocast = false)`
        : `CREATE OR REPLACE VIEW lake_quarantine AS ${emptyRelation([...QUARANTINE_DUCK_COLUMNS, ...PARTITIONS])}`,
    );
    this.quarantineFiles = hasFiles;
  }

  async run(sql: string): Promise<Row[]> {
    const result = await this.reader.runAndReadAll(sql);
    return result.getRowObjects().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
  }

  close(): void {
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

/** Counts and epoch milliseconds come back as BigInt; every figure here fits a double exactly. */
function plain(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** Files under dir with this extension, as keys relative to root ('/'-separated) → mtime in ms. */
function listFiles(dir: string, extension: string, root: string): Map<string, number> {
  const files = new Map<string, number>();
  if (!existsSync(dir)) return files;
  for (const entry of readdirSync(dir, { recursive: true })) {
    const name = String(entry);
    if (!name.endsWith(extension)) continue;
    const path = join(dir, name);
    files.set(relative(root, path).split(sep).join('/'), statSync(path).mtimeMs);
  }
  return files;
}
