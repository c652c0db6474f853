/**
 * Lake rows to one Parquet file, with the columns of lake-columns.ts.
 *
 * Strings are UTF8 with the STRING logical type (dictionary-encoded when that pays,
 * which it does for the low-cardinality columns), instants are INT64
 * TIMESTAMP(MILLIS, UTC), and pages are zstd-compressed by zstd's own C code
 * compiled to WebAssembly: 44% smaller than snappy (Athena bills bytes scanned)
 * and no slower. Node 20 has no zstd of its own.
 *
 * Every file of lake rows, the consumer's (encodeParquet) and the compactor's written a row
 * group at a time (lakeFileWriter), goes through lake-parquet-writer.ts, written for these
 * fixed column types; the rollup tables (encodeTable, tableFileWriter) through hyparquet-writer's
 * general writer, which writes the same bytes for the same rows of the lake's columns and still
 * writes the footer and page headers of every file.
 */
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { ByteWriter, ParquetWriter, parquetWriteBuffer } from 'hyparquet-writer';
import { LAKE_COLUMNS, type LakeColumn, type LakeColumnType } from '../common/lake-columns.ts';
import { lakeRowColumns } from '../common/generated/lake-row-columns.js';
import { lakeFileBuilder, PHYSICAL, writeParquet, type LakeFileBuilder, type WriteOptions, type WriterColumn } from './lake-parquet-writer.ts';
import type { LakeRow } from './plan-batch.ts';

/**
 * zstd level 1: measured on simulator batches of 500 to 10,000 rows (2026-12-03) it is
 * both faster than the default level 3 (5-20% of the encoding's CPU time) and smaller
 * (1-4%): the pages are small, and level 3's longer search finds little more in them.
 */
const ZSTD_LEVEL = 1;

/**
 * zstd level 16 for the columns a refresh reads most of its bytes from (session and user ids, event
 * times), in the fold's parts: written once a minute, read by every refresh of the open hour. A part
 * of a minute at 5,000 events/s is then read at 12.2 bytes an event instead of 13.7, for about 5 s
 * more CPU per million rows (docs/benchmarks.md, "Files as dense as the priced rate"). Levels 2 to 13
 * gave larger pages than level 1 on these columns; 16 is where zstd's optimal parsing starts. Not for
 * the compactor's files: its CPU bounds the largest hour it compacts, and 5 s a million rows is about
 * a tenth more of it (docs/architecture.md, "What Athena's goals need").
 */
const READ_OFTEN_ZSTD_LEVEL = 16;
const READ_OFTEN_COLUMNS: ReadonlySet<string> = new Set(['session_id', 'user_id', 'event_time']);

/**
 * zstd's WebAssembly, started once for everything in the process that compresses through it: a
 * second init() swaps the module under the first, and pages then fail to decompress (seen in a
 * test that called init() itself; test/unit/consumer/lake-parquet-writer.test.ts).
 */
let zstdReady: Promise<void> | undefined;

/**
 * Columns whose values never repeat within a file: a dictionary can never pay, so they
 * are written PLAIN without the writer's dictionary trial. Values stay UTF-8 with the
 * STRING type either way.
 */
const UNIQUE_COLUMNS = new Set(['event_id', 'source_offset']);

/**
 * Min/max statistics only where a reader uses them: instants and numbers (engines prune
 * on event_time; `status` reads the newest event_time and ingest_time from the footer).
 * A file is one row group, so string bounds (ids, URLs) span nearly every value and
 * prune nothing, while computing them compared every string: about a sixth of the
 * encoding time.
 */
const withStatistics = (type: LakeColumnType) => type !== 'string';

/** The lake columns as the writer takes them: each with its encoding and statistics choices. */
const writerColumns = (columns: readonly LakeColumn[]): WriterColumn[] =>
  columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, plain: UNIQUE_COLUMNS.has(c.name), statistics: withStatistics(c.type) }));
const WRITER_COLUMNS = writerColumns(LAKE_COLUMNS);

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];
/**
 * Rows of any other table (the rollups) as one Parquet file, with the lake's physical types:
 * every column nullable, dictionary-encoded where that pays, with statistics; one row group unless asked.
 */
export function encodeTable(columns: readonly TableColumn[], rows: readonly Readonly<Record<string, unknown>>[], rowGroupRows = rows.length): Promise<Buffer> {
  return writeZstd({ columnData: tableColumnData(columns, rows), schema: tableSchema(columns), rowGroupSize: Math.max(1, rowGroupRows), createdBy: 'clickstream-compactor' });
}

type TableColumn = { readonly name: string; readonly type: LakeColumnType };
const tableSchema = (columns: readonly TableColumn[]): SchemaElement[] => [
  { name: 'root', num_children: columns.length },
  ...columns.map((c) => ({ name: c.name, ...PHYSICAL[c.type], repetition_type: 'OPTIONAL' as const })),
];
const tableColumnData = (columns: readonly TableColumn[], rows: readonly Readonly<Record<string, unknown>>[]) =>
  columns.map((c) => ({
    name: c.name,
    data: rows.map((row) => {
      const value = row[c.name] ?? null;
      return c.type === 'int64' && value !== null ? BigInt(value as number) : value;
    }),
  }));

/** A Parquet file written one row group at a time, so its rows never sit in memory all at once; its bytes do, until finish. */
export interface RowGroupWriter<R> {
  /** Appends the rows as one row group (none if there are no rows). */
  writeRowGroup(rows: readonly R[]): void;
  /** Rows written so far. */
  readonly rows: number;
  finish(): Buffer;
}

async function rowGroupWriter<R>(schema: SchemaElement[], createdBy: string, columnData: (rows: readonly R[]) => ColumnData): Promise<RowGroupWriter<R>> {
  await (zstdReady ??= zstdInit());
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, schema, codec: 'ZSTD', compressors: { ZSTD: compressPage }, createdBy });
  let rows = 0;
  return {
    writeRowGroup(group) {
      if (group.length === 0) return;
      void writer.write({ columnData: columnData(group), rowGroupSize: group.length });
      rows += group.length;
    },
    get rows() {
      return rows;
    },
    finish() {
      void writer.finish();
      return Buffer.from(bytes.getBuffer());
    },
  };
}

/**
 * The compactor's files and the fold's parts: lake rows, as encodeParquet writes them, a row group at
 * a time (as column arrays, which their merges give), by the consumer's writer (lake-parquet-writer.ts),
 * so one writer writes every lake row. `readOften`: a file every refresh of an hour reads (the fold's
 * parts), with the READ_OFTEN_COLUMNS compressed harder.
 */
export async function lakeFileWriter(options: { readonly readOften?: boolean } = {}): Promise<LakeFileBuilder> {
  await (zstdReady ??= zstdInit());
  return lakeFileBuilder({ columns: WRITER_COLUMNS, compress: options.readOften ? compressReadOftenPage : compressPage, codec: 'ZSTD', createdBy: 'clickstream-consumer' });
}

/** A rollup's file (as encodeTable writes it), a row group at a time. */
export function tableFileWriter(columns: readonly TableColumn[]): Promise<RowGroupWriter<Readonly<Record<string, unknown>>>> {
  return rowGroupWriter(tableSchema(columns), 'clickstream-compactor', (rows) => tableColumnData(columns, rows));
}

/** One Parquet file with zstd pages at ZSTD_LEVEL: the writer's options every file of the lake shares. */
async function writeZstd(options: Omit<Parameters<typeof parquetWriteBuffer>[0], 'codec' | 'compressors'>): Promise<Buffer> {
  await (zstdReady ??= zstdInit());
  return Buffer.from(parquetWriteBuffer({ ...options, codec: 'ZSTD', compressors: { ZSTD: compressPage } }));
}

const compressPage = (bytes: Uint8Array) => zstdCompress(bytes, ZSTD_LEVEL);
/** A page of a file read by every refresh (READ_OFTEN_COLUMNS). */
const compressReadOftenPage = (bytes: Uint8Array, column: WriterColumn) => zstdCompress(bytes, READ_OFTEN_COLUMNS.has(column.name) ? READ_OFTEN_ZSTD_LEVEL : ZSTD_LEVEL);

/**
 * One row group by default (a consumer file is one batch's rows for an hour); the compactor
 * asks for smaller groups, so an engine reading a range skips the groups outside it by their
 * event_time statistics.
 */
export function encodeParquet(rows: readonly LakeRow[], rowGroupRows = rows.length): Promise<Buffer> {
  return encodeRows(rows, rowGroupRows, WRITER_COLUMNS, compressPage);
}

/**
 * An encoder writing files as the consumer of another schema version did: LAKE_COLUMNS with that
 * version's nullability (lake-columns.ts, eventColumnsOf), so that tests can hold the files of
 * every version in one lake. Only whether a column may be null can differ.
 */
export function parquetEncoderFor(columns: readonly LakeColumn[]): (rows: readonly LakeRow[], rowGroupRows?: number) => Promise<Buffer> {
  const differ = (c: LakeColumn, i: number) => c.name !== LAKE_COLUMNS[i]?.name || c.type !== LAKE_COLUMNS[i].type;
  if (columns.length !== LAKE_COLUMNS.length || columns.some(differ)) throw new Error('the columns must be the lake columns (names, order, types), differing only in nullability');
  const versionColumns = writerColumns(columns);
  return (rows, rowGroupRows = rows.length) => encodeRows(rows, rowGroupRows, versionColumns, compressPage);
}

async function encodeRows(rows: readonly LakeRow[], rowGroupRows: number, columns: readonly WriterColumn[], compress: WriteOptions['compress']): Promise<Buffer> {
  await (zstdReady ??= zstdInit());
  // Generated at build time: one property read per column, written out (lambdas/generate-code.ts).
  const data = lakeRowColumns(rows);
  const file = writeParquet({ columns, data, rowGroupRows: Math.max(1, rowGroupRows), compress, codec: 'ZSTD', createdBy: 'clickstream-consumer' });
  // A copy of exactly the file's bytes: the writer's buffer grows by doubling, and a file may be held until its PUT.
  return Buffer.from(file);
}

type ColumnData = Parameters<typeof parquetWriteBuffer>[0]['columnData'];
