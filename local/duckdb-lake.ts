/**
 * The local query engine: DuckDB over the mirrored lake. Its native build reads
 * Parquet and JSON but not S3 without downloading an extension, so it queries
 * the files LakeMirror keeps in a local directory; extension downloads are off.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LAKE_COLUMNS, QUARANTINE_COLUMNS, type LakeColumnType } from '../lambdas/common/lake-columns.ts';
import { duckdbDialect, type Dialect } from '../lambdas/query/dialect.ts';
import type { QueryEngine, Row } from '../lambdas/query/query-api.ts';

const DUCK_TYPES: Record<LakeColumnType, string> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  double: 'DOUBLE',
  timestamp_ms: 'TIMESTAMPTZ',
};
const PARTITIONS = ['year', 'month', 'day', 'hour'].map((c) => [c, 'VARCHAR'] as const);
const QUARANTINE_DUCK_COLUMNS = QUARANTINE_COLUMNS.map((c) => [c.name, DUCK_TYPES[c.type]] as const);

/** A relation with these columns and no rows. */
function emptyRelation(columns: readonly (readonly [string, string])[]): string {
  return `SELECT ${columns.map(([name, type]) => `NULL::${type} AS ${name}`).join(', ')} WHERE false`;
}

export class DuckDbLake implements QueryEngine {
  readonly dialect: Dialect = duckdbDialect();

  private constructor(
    private readonly connection: DuckDBConnection,
    readonly directory: string,
  ) {}

  static async open(directory: string): Promise<DuckDbLake> {
    const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const connection = await db.connect();
    await connection.run("SET TimeZone = 'UTC'");
    const lake = new DuckDbLake(connection, directory);
    await lake.refresh();
    return lake;
  }

  /** Re-points the views at the files now in the mirror (call after each sync). */
  async refresh(): Promise<void> {
    const events = join(this.directory, 'events');
    const quarantine = join(this.directory, 'quarantine');
    // An empty lake (nothing landed yet) is a view with the right columns and no rows, not an error.
    await this.connection.run(
      hasFiles(events, '.parquet')
        ? `CREATE OR REPLACE VIEW lake_events AS SELECT * FROM read_parquet('${events}/**/*.parquet', hive_partitioning = true, hive_types_autocast = false, union_by_name = true)`
        : `CREATE OR REPLACE VIEW lake_events AS ${emptyRelation([...LAKE_COLUMNS.map((c) => [c.name, DUCK_TYPES[c.type]] as const), ...PARTITIONS])}`,
    );
    const quarantineColumns = `{${QUARANTINE_DUCK_COLUMNS.map(([name, type]) => `${name}: '${type}'`).join(', ')}}`;
    await this.connection.run(
      hasFiles(quarantine, '.jsonl')
        ? `CREATE OR REPLACE VIEW lake_quarantine AS SELECT * FROM read_json('${quarantine}/**/*.jsonl', format = 'newline_delimited', columns = ${quarantineColumns}, hive_partitioning = true, hive_types_autocast = false)`
        : `CREATE OR REPLACE VIEW lake_quarantine AS ${emptyRelation([...QUARANTINE_DUCK_COLUMNS, ...PARTITIONS])}`,
    );
  }

  async run(sql: string): Promise<Row[]> {
    const result = await this.connection.runAndReadAll(sql);
    return result.getRowObjects().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
  }

  close(): void {
    this.connection.closeSync();
  }
}

/** Counts and epoch milliseconds come back as BigInt; every figure here fits a double exactly. */
function plain(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

function hasFiles(dir: string, extension: string): boolean {
  return existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith(extension));
}
