/**
 * Lake rows to one Parquet file, with the columns of lake-columns.ts.
 *
 * hyparquet-writer was chosen by measurement (docs/benchmarks.md): pure
 * JavaScript, the fastest of the candidates on a 10k-row batch, and a small
 * bundle. Strings are UTF8 with the STRING logical type (dictionary-encoded when
 * that pays, which it does for the low-cardinality columns), instants are INT64
 * TIMESTAMP(MILLIS, UTC), and pages are zstd-compressed by zstd's own C code
 * compiled to WebAssembly: 44% smaller than snappy (Athena bills bytes scanned)
 * and no slower. Node 20 has no zstd of its own.
 */
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { LAKE_COLUMNS, type LakeColumnType } from '../common/lake-columns.ts';
import type { LakeRow } from './plan-batch.ts';

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

const PHYSICAL: Record<LakeColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
  double: { type: 'DOUBLE' },
  timestamp_ms: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
};

const SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: LAKE_COLUMNS.length },
  ...LAKE_COLUMNS.map((c) => ({ name: c.name, ...PHYSICAL[c.type], repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const) })),
];

/** zstd level 3, its default: level 1 is barely faster here and level 6 barely smaller. */
const ZSTD_LEVEL = 3;

let zstdReady: Promise<void> | undefined;

/**
 * One row group by default (a consumer file is one batch's rows for an hour); the compactor
 * asks for smaller groups, so an engine reading a range skips the groups outside it by their
 * event_time statistics.
 */
export async function encodeParquet(rows: readonly LakeRow[], rowGroupRows = rows.length): Promise<Buffer> {
  await (zstdReady ??= zstdInit());
  const columnData = LAKE_COLUMNS.map((column) => {
    const data: unknown[] = new Array(rows.length);
    const is64 = column.type === 'int64' || column.type === 'timestamp_ms';
    for (let i = 0; i < rows.length; i++) {
      const value = (rows[i] as unknown as Record<string, unknown>)[column.name];
      data[i] = value === undefined || value === null ? null : is64 ? BigInt(value as number) : value;
    }
    return { name: column.name, data };
  });
  const buffer = parquetWriteBuffer({
    columnData: columnData,
    schema: SCHEMA,
    codec: 'ZSTD',
    compressors: { ZSTD: (bytes: Uint8Array) => zstdCompress(bytes, ZSTD_LEVEL) },
    rowGroupSize: Math.max(1, rowGroupRows),
    createdBy: 'clickstream-consumer',
  });
  return Buffer.from(buffer);
}
