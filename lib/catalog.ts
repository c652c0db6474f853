/**
 * The Glue catalog over the lake: three Parquet tables of events (the raw hour
 * partitions, the compactor's files, the late files), one per rollup of the
 * compacted hours, and a quarantine table
 * (JSON lines), all with partition projection on year/month/day/hour, so Athena
 * finds new hours without a crawler or MSCK REPAIR. Columns come from
 * lambdas/common/lake-columns.ts, the same list the Parquet writer uses; table
 * names from the Athena dialect, which the named queries use.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_COLUMNS, QUARANTINE_COLUMNS, type LakeColumn, type LakeColumnType } from '../lambdas/common/lake-columns.ts';
import { LAKE_PREFIXES, PARTITION_COLUMNS } from '../lambdas/common/pipeline-names.ts';
import { ALL_ATHENA_TABLES, ATHENA_ROLLUP_TABLES, ATHENA_TABLES } from '../lambdas/query/dialect.ts';
import { ROLLUP_COLUMNS, ROLLUP_NAMES, type RollupName } from '../lambdas/query/rollups.ts';

const GLUE_TYPES: Record<LakeColumnType, string> = { string: 'string', int32: 'int', int64: 'bigint', double: 'double', timestamp_ms: 'timestamp' };

/** The table names Athena queries (athenaDialect's). */
export const EVENTS_TABLE = ATHENA_TABLES.events;
export const QUARANTINE_TABLE = ATHENA_TABLES.quarantine;

/** The Parquet tables of event rows: where each reads, and what its partitions mean. */
const EVENT_TABLES = [
  { id: 'EventsTable', name: ATHENA_TABLES.events, prefix: LAKE_PREFIXES.events, description: 'Raw event files as the consumer wrote them, partitioned by event hour' },
  { id: 'CompactedTable', name: ATHENA_TABLES.compacted, prefix: LAKE_PREFIXES.compacted, description: 'Compacted event files (pick the committed ones by $path), partitioned by event hour' },
  { id: 'LateTable', name: ATHENA_TABLES.late, prefix: LAKE_PREFIXES.late, description: 'Events that arrived after their hour closed, partitioned by ingest hour' },
] as const;

/** A rollup's columns as lake columns (the rollup files use the lake's types; every column may be NULL). */
export function rollupLakeColumns(name: RollupName): LakeColumn[] {
  return ROLLUP_COLUMNS[name].map((c) => ({ name: c.name, type: c.type, nullable: true, lowCardinality: false }));
}

/** Every Parquet table: the event tables, then one per rollup (lambdas/query/rollups.ts). */
const PARQUET_TABLES = [
  ...EVENT_TABLES.map((t) => ({ ...t, columns: LAKE_COLUMNS })),
  ...ROLLUP_NAMES.map((name) => ({
    id: `Rollup${name[0]!.toUpperCase()}${name.slice(1)}Table`,
    name: ATHENA_ROLLUP_TABLES[name],
    prefix: `${LAKE_PREFIXES.rollups}${name}/`,
    description: `Rollup "${name}" of compacted hours (pick the committed files by $path), partitioned by event hour`,
    columns: rollupLakeColumns(name),
  })),
];

export function glueColumns(columns: readonly LakeColumn[]): CfnTable.ColumnProperty[] {
  return columns.map((c) => ({ name: c.name, type: GLUE_TYPES[c.type], ...(c.description && { comment: c.description.slice(0, 255) }) }));
}

/** Projection of the Hive hour partitions: zero-padded strings, as the consumer writes them. */
export function hourProjection(location: string, firstYear: number): Record<string, string> {
  const ranges: Record<(typeof PARTITION_COLUMNS)[number], [string, number]> = {
    year: [`${firstYear},2100`, 4],
    month: ['1,12', 2],
    day: ['1,31', 2],
    hour: ['0,23', 2],
  };
  const properties: Record<string, string> = { 'projection.enabled': 'true' };
  for (const column of PARTITION_COLUMNS) {
    const [range, digits] = ranges[column];
    properties[`projection.${column}.type`] = 'integer';
    properties[`projection.${column}.range`] = range;
    properties[`projection.${column}.digits`] = String(digits);
  }
  properties['storage.location.template'] = `${location}${PARTITION_COLUMNS.map((c) => `${c}=\${${c}}`).join('/')}/`;
  return properties;
}

export interface CatalogProps {
  readonly lake: IBucket;
  /** @default - derived from the stack name (lower case, underscores) */
  readonly databaseName?: string;
  /** First year partition projection generates. @default 2024 */
  readonly firstYear?: number;
}

export class Catalog extends Construct {
  readonly databaseName: string;
  readonly eventTables: readonly CfnTable[];
  readonly quarantineTable: CfnTable;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? Stack.of(this).stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    if (!/^[a-z0-9_]{1,255}$/.test(this.databaseName)) throw new Error(`databaseName must be lower-case letters, digits and underscores, got "${this.databaseName}"`);
    const firstYear = props.firstYear ?? 2024;
    const database = new CfnDatabase(this, 'Database', { catalogId: Aws.ACCOUNT_ID, databaseInput: { name: this.databaseName, description: 'Clickstream lake' } });
    const partitionKeys = PARTITION_COLUMNS.map((name) => ({ name, type: 'string' }));
    const quarantineLocation = `s3://${props.lake.bucketName}/${LAKE_PREFIXES.quarantine}`;

    this.eventTables = PARQUET_TABLES.map((t) => {
      const location = `s3://${props.lake.bucketName}/${t.prefix}`;
      return new CfnTable(this, t.id, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name: t.name,
          description: t.description,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys,
          parameters: { classification: 'parquet', ...hourProjection(location, firstYear) },
          storageDescriptor: {
            location,
            columns: glueColumns(t.columns),
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          },
        },
      });
    });
    this.quarantineTable = new CfnTable(this, 'QuarantineTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: QUARANTINE_TABLE,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys,
        parameters: { classification: 'json', ...hourProjection(quarantineLocation, firstYear) },
        storageDescriptor: {
          location: quarantineLocation,
          columns: glueColumns(QUARANTINE_COLUMNS),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
        },
      },
    });
    for (const table of [...this.eventTables, this.quarantineTable]) table.addResourceDependency(database);
  }

  /** ARNs the query layer reads: the catalog, the database and its tables. */
  get arns(): string[] {
    const prefix = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}`;
    return [`${prefix}:catalog`, `${prefix}:database/${this.databaseName}`, ...ALL_ATHENA_TABLES.map((t) => `${prefix}:table/${this.databaseName}/${t}`)];
  }
}
