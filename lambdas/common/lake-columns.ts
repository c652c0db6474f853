/**
 * The lake's columns, derived from the one event definition plus the lineage
 * columns the consumer adds. The Parquet writer, the Glue table and the SQL all
 * take their column list and types from here.
 *
 * The definition is read in its published form (schema/, written from the TypeBox
 * definition by `npm run schema` and checked equal to it by published-schema.test.ts),
 * so the consumer, which encodes with these columns, loads neither TypeBox nor the
 * schema builder when it starts.
 */
import type { QuarantinedRecord } from '../consumer/plan-batch.ts';
// The published file of SCHEMA_VERSION (event-enums.ts); a new version is a new file and a new import.
import publishedSchema from '../../schema/clickstream-event.v2.schema.json' with { type: 'json' };

/** The part of a published property's JSON Schema the column mapping reads. */
interface PropertySchema {
  readonly type?: string | readonly string[];
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly description?: string;
}

/** A published event schema, as far as the column mapping reads it. */
export interface PublishedEventSchema {
  readonly properties: Readonly<Record<string, PropertySchema>>;
  readonly required?: readonly string[];
}

export type { LakeColumnType } from './column-type.ts';
import type { LakeColumnType } from './column-type.ts';

export interface LakeColumn {
  readonly name: string;
  readonly type: LakeColumnType;
  readonly nullable: boolean;
  /** Few distinct values: worth dictionary encoding. */
  readonly lowCardinality: boolean;
  readonly description?: string;
}

/** Event fields that hold an instant (ms since the epoch) and are stored as timestamps. */
const TIMESTAMP_FIELDS = new Set(['event_time']);

/** String fields with a small, bounded set of values beyond the enums. */
const LOW_CARDINALITY_STRINGS = new Set(['product_category', 'product_brand', 'user_country', 'campaign', 'os', 'browser']);

function columnType(name: string, schema: PropertySchema): LakeColumnType {
  const types = ([] as unknown[]).concat(schema.type as unknown).filter((t) => t !== 'null');
  const type = types[0];
  if (TIMESTAMP_FIELDS.has(name)) return 'timestamp_ms';
  if (type === 'integer' || (type === 'number' && Number.isInteger(schema.const))) return 'int32';
  if (type === 'number') return 'double';
  if (type === 'string') return 'string';
  throw new Error(`event field ${name} has type ${String(type)}, which has no lake column type: add a mapping in lake-columns.ts`);
}

/**
 * The event columns of a published schema version. The lake holds the files of every version
 * together: v1's consumer wrote demographics, country, device, os and browser as required columns,
 * v2's writes them nullable (same names, order and types), and every reader takes both.
 */
export function eventColumnsOf(schema: PublishedEventSchema): LakeColumn[] {
  const required = new Set<string>(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const nullable = !required.has(name) || (Array.isArray(s.type) && s.type.includes('null'));
    return {
      name,
      type: columnType(name, s),
      nullable,
      lowCardinality: Array.isArray(s.enum) || LOW_CARDINALITY_STRINGS.has(name),
      ...(typeof s.description === 'string' && { description: s.description }),
    };
  });
}

export const EVENT_COLUMNS: readonly LakeColumn[] = eventColumnsOf(publishedSchema);

/** Where each row came from and when it was written: for debugging, replay and freshness. */
export const LINEAGE_COLUMNS: readonly LakeColumn[] = [
  { name: 'source_topic', type: 'string', nullable: false, lowCardinality: true, description: 'Kafka topic or Kinesis stream name.' },
  { name: 'source_partition', type: 'int32', nullable: false, lowCardinality: true, description: 'Kafka partition or Kinesis shard number.' },
  { name: 'source_offset', type: 'string', nullable: false, lowCardinality: false, description: 'Kafka offset or Kinesis sequence number, in decimal.' },
  { name: 'ingest_time', type: 'timestamp_ms', nullable: false, lowCardinality: false, description: 'When the consumer wrote the row.' },
];

export const LAKE_COLUMNS: readonly LakeColumn[] = [...EVENT_COLUMNS, ...LINEAGE_COLUMNS];

/**
 * The columns of a quarantine line (JSON, one object per rejected record), in
 * the order the consumer writes them. `satisfies` ties the list to the row type
 * the consumer writes, so neither can change without the other.
 */
export const QUARANTINE_COLUMNS = [
  { name: 'code', type: 'string', nullable: false, lowCardinality: true, description: 'Why the record was rejected (a RejectionCode).' },
  { name: 'reason', type: 'string', nullable: false, lowCardinality: false, description: 'The rule the record broke, naming the field.' },
  { name: 'source_topic', type: 'string', nullable: false, lowCardinality: true },
  { name: 'source_partition', type: 'int32', nullable: false, lowCardinality: true },
  { name: 'source_offset', type: 'string', nullable: false, lowCardinality: false },
  { name: 'ingest_time', type: 'int64', nullable: false, lowCardinality: false, description: 'When the consumer wrote the line, ms since the epoch.' },
  { name: 'raw', type: 'string', nullable: true, lowCardinality: false, description: 'The payload as received.' },
  { name: 'raw_encoding', type: 'string', nullable: false, lowCardinality: true, description: 'utf8, or base64 when the payload is not valid UTF-8.' },
] as const satisfies readonly (LakeColumn & { readonly name: keyof QuarantinedRecord })[];
