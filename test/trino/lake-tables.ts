/**
 * The lake's tables in Trino's Hive catalog, made from the same column lists as
 * the Glue tables (lib/catalog.ts's glueColumns over lake-columns.ts), so the
 * SQL meets the columns and types Athena would see. Glue finds partitions by
 * projection; a file metastore has none, so they are registered from the
 * bucket's directories once the data is there.
 */
import { glueColumns, rollupLakeColumns } from '../../lib/catalog.ts';
import { ATHENA_ROLLUP_TABLES, ATHENA_TABLES } from '../../lambdas/query/dialect.ts';
import { ROLLUP_NAMES } from '../../lambdas/query/rollups.ts';
import { LAKE_COLUMNS, QUARANTINE_COLUMNS, type LakeColumn } from '../../lambdas/common/lake-columns.ts';
import { LAKE_PREFIXES, PARTITION_COLUMNS } from '../../lambdas/common/pipeline-names.ts';
import type { QueryEngine } from '../../lambdas/query/query-api.ts';

/** Glue's (Hive's) type names as Trino spells them; Athena reads a Glue `timestamp` with millisecond precision. */
const TRINO_TYPES: Record<string, string> = { string: 'varchar', int: 'integer', bigint: 'bigint', double: 'double', timestamp: 'timestamp(3)' };

function columnList(columns: readonly LakeColumn[]): string[] {
  return glueColumns(columns).map(({ name, type }) => {
    const trinoType = type === undefined ? undefined : TRINO_TYPES[type];
    if (!trinoType) throw new Error(`Glue column ${name} has type ${type}, which has no Trino type here: add it to TRINO_TYPES in test/trino/lake-tables.ts`);
    return `${name} ${trinoType}`;
  });
}

function createTable(schema: string, table: string, columns: readonly LakeColumn[], location: string, format: string): string {
  // Hive partition columns come last, as strings (the zero-padded directory names).
  const all = [...columnList(columns), ...PARTITION_COLUMNS.map((c) => `${c} varchar`)];
  return `CREATE TABLE "${schema}"."${table}" (\n  ${all.join(',\n  ')}\n) WITH (
  format = '${format}',
  external_location = '${location}',
  partitioned_by = ARRAY[${PARTITION_COLUMNS.map((c) => `'${c}'`).join(', ')}]
)`;
}

/** The event tables (raw, compacted, late: Parquet), the quarantine table (JSON lines, as Glue's OpenX SerDe reads them) and the rollups (Parquet). */
const TABLES = [
  { name: ATHENA_TABLES.events, columns: LAKE_COLUMNS, prefix: LAKE_PREFIXES.events, format: 'PARQUET' },
  { name: ATHENA_TABLES.compacted, columns: LAKE_COLUMNS, prefix: LAKE_PREFIXES.compacted, format: 'PARQUET' },
  { name: ATHENA_TABLES.late, columns: LAKE_COLUMNS, prefix: LAKE_PREFIXES.late, format: 'PARQUET' },
  { name: ATHENA_TABLES.quarantine, columns: QUARANTINE_COLUMNS, prefix: LAKE_PREFIXES.quarantine, format: 'OPENX_JSON' },
  ...ROLLUP_NAMES.map((name) => ({ name: ATHENA_ROLLUP_TABLES[name], columns: rollupLakeColumns(name), prefix: `${LAKE_PREFIXES.rollups}${name}/`, format: 'PARQUET' })),
];

/** Creates the schema with the lake's tables over the bucket, as lib/catalog.ts declares them in Glue. */
export async function createLakeTables(trino: Pick<QueryEngine, 'run'>, schema: string, bucket: string): Promise<void> {
  await trino.run(`CREATE SCHEMA "${schema}"`);
  for (const t of TABLES) await trino.run(createTable(schema, t.name, t.columns, `s3://${bucket}/${t.prefix}`, t.format));
}

/** Registers every partition directory now in the bucket (the file metastore's stand-in for projection). */
export async function syncPartitions(trino: Pick<QueryEngine, 'run'>, schema: string): Promise<void> {
  for (const t of TABLES) await trino.run(`CALL system.sync_partition_metadata('${schema}', '${t.name}', 'FULL')`);
}
