/**
 * Column arrays of the lake's fixed column types straight to one Parquet file.
 *
 * Why not hyparquet-writer's `parquetWriteBuffer`: it takes any schema and pays for that on
 * every value (a type dispatch, a `TextEncoder` array per string, a dictionary trial over
 * copies, one DataView call per byte); for the lake's columns that was about three times the
 * cost of the `JSON.parse` of the batch (docs/benchmarks.md, "Consumer core"). Here each of the
 * five column types has one loop, strings go to UTF-8 with `Buffer.write` into one buffer
 * per page, and dictionaries are built on the JavaScript values themselves.
 *
 * What stays hyparquet-writer's (its exported modules): the page headers, the footer
 * (FileMetaData in Thrift, with the statistics) and the offset index, so the metadata
 * every engine reads is written by the same code as before. The file has the same shape
 * as before too: data pages v2 of at most about 1 MiB, dictionary pages where a dictionary
 * at least halves the plain bytes, min/max statistics on the columns that ask for them.
 */
import type { ColumnChunk, Encoding, ParquetType, RowGroup, SchemaElement, Statistics } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeIndexes } from 'hyparquet-writer/src/indexes.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { LakeColumnType } from '../common/column-type.ts';

export interface WriterColumn {
  readonly name: string;
  readonly type: LakeColumnType;
  readonly nullable: boolean;
  /** Never dictionary-encoded: for values that do not repeat within a file (ids, offsets), where the trial cannot pay. */
  readonly plain: boolean;
  /** Min/max and null count in the footer. */
  readonly statistics: boolean;
}

export interface WriteOptions {
  readonly columns: readonly WriterColumn[];
  /** One array per column, in `columns` order, all of the same length; null where a row has no value. */
  readonly data: readonly (readonly unknown[])[];
  readonly rowGroupRows: number;
  /** Compresses one page's values (the codec named by `codec`), of the column given. */
  readonly compress: (bytes: Uint8Array, column: WriterColumn) => Uint8Array;
  readonly codec: 'ZSTD';
  readonly createdBy: string;
}

/** Parquet's physical and logical types of each lake column type. */
export const PHYSICAL: Record<LakeColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  int32: { type: 'INT32' },
  int64: { type: 'INT64' },
  double: { type: 'DOUBLE' },
  timestamp_ms: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
};

/** Where a page is cut, in estimated value bytes: hyparquet-writer's default page size. */
const PAGE_BYTES = 1 << 20;
/** Bytes of one value of each fixed-width type. */
const WIDTH: Record<Exclude<LakeColumnType, 'string'>, number> = { int32: 4, int64: 8, double: 8, timestamp_ms: 8 };

export function writeParquet(options: WriteOptions): Uint8Array {
  const { columns, data, rowGroupRows } = options;
  const rowCount = data[0]?.length ?? 0;
  if (data.length !== columns.length || data.some((values) => values.length !== rowCount)) throw new Error('writeParquet needs one array per column, all of the same length');
  const schema: SchemaElement[] = [
    { name: 'root', num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, ...PHYSICAL[c.type], repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const) })),
  ];
  const out = new ByteWriter(Math.max(1 << 16, rowCount * 48));
  out.appendUint32(0x31524150); // PAR1
  const rowGroups: RowGroup[] = [];
  const chunks: { chunk: ColumnChunk; offsetIndex?: OffsetIndexOf }[] = [];
  for (let start = 0; start < rowCount; start += rowGroupRows) {
    const end = Math.min(rowCount, start + rowGroupRows);
    const groupStart = out.offset;
    const groupChunks = columns.map((column, j) => writeChunk(out, column, data[j]!, start, end, options));
    chunks.push(...groupChunks);
    rowGroups.push({
      columns: groupChunks.map((c) => c.chunk),
      total_byte_size: groupChunks.reduce((n, c) => n + c.chunk.meta_data!.total_uncompressed_size, 0n),
      num_rows: BigInt(end - start),
      total_compressed_size: BigInt(out.offset - groupStart),
    });
  }
  writeIndexes(out, chunks);
  writeMetadata(out, { version: 2, created_by: options.createdBy, schema, num_rows: BigInt(rowCount), row_groups: rowGroups, metadata_length: 0 });
  out.appendUint32(0x31524150);
  return out.getBytes();
}

type OffsetIndexOf = NonNullable<Parameters<typeof writeIndexes>[1][number]['offsetIndex']>;

/** One column's rows [start, end) as a column chunk: a dictionary page if one pays, then data pages. */
function writeChunk(out: ByteWriter, column: WriterColumn, values: readonly unknown[], start: number, end: number, options: WriteOptions): { chunk: ColumnChunk; offsetIndex?: OffsetIndexOf } {
  const { type } = PHYSICAL[column.type] as { type: ParquetType };
  const chunkStart = out.offset;
  let nulls = 0;
  for (let i = start; i < end; i++) if (values[i] === null || values[i] === undefined) nulls++;
  if (nulls > 0 && !column.nullable) throw new Error(`column ${column.name} is required, but ${nulls} of its rows have no value: the rows must be validated before they are written`);

  let uncompressed = 0;
  let dictionaryPageOffset: bigint | undefined;
  const dictionary = column.plain ? undefined : dictionaryOf(column.type, values, start, end, end - start - nulls);
  if (dictionary) {
    dictionaryPageOffset = BigInt(out.offset);
    uncompressed += writePage(out, options, column, plainBytes(column, dictionary.entries, 0, dictionary.entries.length), { type: 'DICTIONARY_PAGE', num_values: dictionary.entries.length });
  }

  const dataPageOffset = BigInt(out.offset);
  const encoding: Encoding = dictionary ? 'RLE_DICTIONARY' : 'PLAIN';
  const pages = pageBoundaries(column, values, start, end, dictionary !== undefined);
  const locations: OffsetIndexOf['page_locations'] = [];
  let presentBefore = 0; // non-null rows in the pages before: where a page's dictionary indexes start
  for (let p = 0; p < pages.length - 1; p++) {
    const from = pages[p]!;
    const to = pages[p + 1]!;
    const pageOffset = out.offset;
    let pageNulls = 0;
    let levels: Uint8Array | undefined;
    if (column.nullable) {
      const defined = new Uint8Array(to - from);
      for (let i = from; i < to; i++) {
        if (values[i] === null || values[i] === undefined) pageNulls++;
        else defined[i - from] = 1;
      }
      const writer = new ByteWriter(64);
      writeRleBitPackedHybrid(writer, defined, 1);
      levels = writer.getBytes();
    }
    const present = to - from - pageNulls;
    const body = dictionary ? indexBytes(dictionary.indexes.subarray(presentBefore, presentBefore + present)) : plainBytes(column, values, from, to);
    presentBefore += present;
    uncompressed += writePage(out, options, column, body, { type: 'DATA_PAGE_V2', rows: to - from, nulls: pageNulls, encoding, levels });
    locations.push({ offset: BigInt(pageOffset), compressed_page_size: out.offset - pageOffset, first_row_index: BigInt(from - start) });
  }

  const chunk: ColumnChunk = {
    file_offset: BigInt(chunkStart),
    meta_data: {
      type,
      encodings: dictionary ? ['PLAIN', 'RLE_DICTIONARY'] : ['PLAIN'],
      path_in_schema: [column.name],
      codec: options.codec,
      num_values: BigInt(end - start),
      total_compressed_size: BigInt(out.offset - chunkStart),
      total_uncompressed_size: BigInt(uncompressed),
      data_page_offset: dataPageOffset,
      ...(dictionaryPageOffset !== undefined && { dictionary_page_offset: dictionaryPageOffset }),
      ...(column.statistics && {
        statistics: statisticsOf(column, values, start, end, nulls),
        encoding_stats: [
          ...(dictionary ? [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }] : []),
          { page_type: 'DATA_PAGE_V2' as const, encoding, count: pages.length - 1 },
        ],
      }),
    },
  };
  return { chunk, ...(locations.length > 1 && { offsetIndex: { page_locations: locations } }) };
}

type PageSpec = { type: 'DICTIONARY_PAGE'; num_values: number } | { type: 'DATA_PAGE_V2'; rows: number; nulls: number; encoding: Encoding; levels: Uint8Array | undefined };

/** A page header and its compressed values (data pages v2 keep their levels uncompressed, before the values). Returns the uncompressed size. */
function writePage(out: ByteWriter, options: WriteOptions, column: WriterColumn, body: Uint8Array, page: PageSpec): number {
  const compressed = options.compress(body, column);
  const headerStart = out.offset;
  if (page.type === 'DICTIONARY_PAGE') {
    writePageHeader(out, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: body.length,
      compressed_page_size: compressed.length,
      dictionary_page_header: { num_values: page.num_values, encoding: 'PLAIN' },
    });
  } else {
    const levelBytes = page.levels?.length ?? 0;
    writePageHeader(out, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levelBytes + body.length,
      compressed_page_size: levelBytes + compressed.length,
      data_page_header_v2: {
        num_values: page.rows,
        num_nulls: page.nulls,
        num_rows: page.rows,
        encoding: page.encoding,
        definition_levels_byte_length: levelBytes,
        repetition_levels_byte_length: 0,
        is_compressed: true,
      },
    });
  }
  const headerBytes = out.offset - headerStart;
  const levels = page.type === 'DATA_PAGE_V2' ? page.levels : undefined;
  if (levels) out.appendBytes(levels);
  out.appendBytes(compressed);
  return headerBytes + (levels?.length ?? 0) + body.length;
}

/**
 * Row numbers where pages start, and the end. A page is cut at the value that takes it to
 * PAGE_BYTES (hyparquet-writer's rule), counting a null as nothing, an index as 4 bytes and a
 * string as its length (its UTF-8 bytes for ASCII; elsewhere an estimate, which only moves a cut).
 */
function pageBoundaries(column: WriterColumn, values: readonly unknown[], start: number, end: number, dictionary: boolean): number[] {
  const width = dictionary ? 4 : column.type === 'string' ? 0 : WIDTH[column.type];
  const boundaries = [start];
  let pageStart = start;
  let bytes = 0;
  for (let i = start; i < end; i++) {
    const value = values[i];
    const size = value === null || value === undefined ? 0 : width || (value as string).length;
    bytes += size;
    if (bytes >= PAGE_BYTES && i > pageStart) {
      boundaries.push((pageStart = i));
      bytes = size;
    }
  }
  boundaries.push(end);
  return boundaries;
}

interface Dictionary {
  /** The distinct values, in order of first appearance. */
  readonly entries: unknown[];
  /** Each non-null row's entry, in row order. */
  readonly indexes: Int32Array;
}

/**
 * The column's dictionary if it pays, else undefined, decided by hyparquet-writer's rules so the
 * files are the ones it wrote: a sample of 1,000 values spread over the chunk rejects a column
 * whose distinct values are over 90% of its bytes; otherwise the dictionary is built and kept if
 * it, with the indexes, at most halves the plain bytes. A string's length stands in for its UTF-8
 * bytes, as there. Built on the JavaScript values, so no string is encoded to find it repeats,
 * and given up as soon as the distinct values alone pass half the plain bytes.
 */
function dictionaryOf(type: LakeColumnType, values: readonly unknown[], start: number, end: number, present: number): Dictionary | undefined {
  if (present === 0) return undefined;
  const isString = type === 'string';
  const width = isString ? 4 : WIDTH[type];
  const sizeOf = (value: unknown) => (value === null || value === undefined ? 0 : isString ? 4 + (value as string).length : width);
  if (sampledDistinctShare(values, start, end, sizeOf) > 0.9) return undefined;

  let plain = present * width;
  if (isString) {
    for (let i = start; i < end; i++) {
      const value = values[i];
      if (typeof value === 'string') plain += value.length;
    }
  }
  const byValue = new Map<unknown, number>();
  const entries: unknown[] = [];
  const indexes = new Int32Array(present);
  let distinctBytes = 0;
  let k = 0;
  for (let i = start; i < end; i++) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    let index = byValue.get(value);
    if (index === undefined) {
      index = entries.length;
      entries.push(value);
      byValue.set(value, index);
      distinctBytes += sizeOf(value);
      if (2 * distinctBytes > plain) return undefined;
    }
    indexes[k++] = index;
  }
  const indexBytes = Math.ceil((present * bitWidth(entries.length - 1)) / 8);
  return 2 * (distinctBytes + indexBytes) > plain ? undefined : { entries, indexes };
}

/** Of the bytes of up to 1,000 values spread evenly over [start, end), the share that distinct values take. */
function sampledDistinctShare(values: readonly unknown[], start: number, end: number, sizeOf: (value: unknown) => number): number {
  const count = end - start;
  const samples = Math.min(count, 1000);
  const seen = new Set<unknown>();
  let distinct = 0;
  let total = 0;
  for (let s = 0; s < samples; s++) {
    const value = values[start + (samples === 1 ? 0 : Math.floor((s * (count - 1)) / (samples - 1)))];
    const size = sizeOf(value);
    total += size;
    if (!seen.has(value)) {
      seen.add(value);
      distinct += size;
    }
  }
  return total === 0 ? Infinity : distinct / total;
}

/** Bits that hold every index up to `max` (0 when it is 0). */
const bitWidth = (max: number) => 32 - Math.clz32(max);

/** A dictionary-encoded data page's values: the bit width (of the page's largest index), then the indexes RLE/bit-packed. */
function indexBytes(indexes: Int32Array): Uint8Array {
  let max = 0;
  for (let i = 0; i < indexes.length; i++) if (indexes[i]! > max) max = indexes[i]!;
  const writer = new ByteWriter(Math.max(64, indexes.length));
  const width = bitWidth(max);
  writer.appendUint8(width);
  writeRleBitPackedHybrid(writer, indexes, width);
  return writer.getBytes();
}

// Numbers are laid out through typed arrays, which use the platform's byte order; Parquet's is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('lake-parquet-writer needs a little-endian platform (x86-64 and ARM64 both are)');

/** Values [from, to) of a column, nulls left out, in Parquet's PLAIN encoding. */
function plainBytes(column: WriterColumn, values: readonly unknown[], from: number, to: number): Uint8Array {
  if (column.type === 'string') return plainStrings(column, values, from, to);
  const numbers = column.type === 'double' ? new Float64Array(to - from) : column.type === 'int32' ? new Int32Array(to - from) : new Int32Array(2 * (to - from));
  let k = 0;
  for (let i = from; i < to; i++) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    if (typeof value !== 'number') throw badValue(column, value);
    if (column.type === 'double') numbers[k++] = value;
    else if (column.type === 'int32') {
      if ((value | 0) !== value) throw badValue(column, value);
      numbers[k++] = value;
    } else {
      // INT64 as two 32-bit words, low first, without a BigInt per value; any safe integer fits.
      if (!Number.isSafeInteger(value)) throw badValue(column, value);
      const high = Math.floor(value / 4_294_967_296);
      numbers[k++] = value - high * 4_294_967_296; // stored as its low 32 bits
      numbers[k++] = high;
    }
  }
  return new Uint8Array(numbers.buffer, 0, k * numbers.BYTES_PER_ELEMENT);
}

/** Strings as PLAIN byte arrays (a 4-byte length, then the UTF-8), written into one buffer sized for the worst case. */
function plainStrings(column: WriterColumn, values: readonly unknown[], from: number, to: number): Uint8Array {
  let bound = 0;
  for (let i = from; i < to; i++) {
    const value = values[i];
    if (typeof value === 'string') bound += 4 + 3 * value.length; // a UTF-16 unit is at most 3 bytes of UTF-8
    else if (value !== null && value !== undefined) throw badValue(column, value);
  }
  const buffer = Buffer.allocUnsafe(bound);
  let offset = 0;
  for (let i = from; i < to; i++) {
    const value = values[i];
    if (typeof value !== 'string') continue;
    const length = writeUtf8(buffer, value, offset + 4);
    buffer.writeUInt32LE(length, offset);
    offset += 4 + length;
  }
  return buffer.subarray(0, offset);
}

/**
 * A string's UTF-8 at `at`; returns its byte length. Short ASCII strings (ids, offsets, most
 * values) are copied by a loop here: `Buffer.write` crosses into C++ for every call, which
 * costs more than the copy on strings of a few dozen characters. Anything else, or a string
 * found not to be ASCII part way, is written (again, from its start) by `Buffer.write`.
 */
function writeUtf8(buffer: Buffer, value: string, at: number): number {
  const n = value.length;
  if (n <= 64) {
    let j = 0;
    for (; j < n; j++) {
      const c = value.charCodeAt(j);
      if (c >= 0x80) break;
      buffer[at + j] = c;
    }
    if (j === n) return n;
  }
  return buffer.write(value, at);
}

const badValue = (column: WriterColumn, value: unknown) => new Error(`column ${column.name} (${column.type}) cannot hold ${typeof value} ${String(value)}`);

/** Min, max and null count of a numeric or instant column (NaN left out of the bounds and counted, as the format asks). */
function statisticsOf(column: WriterColumn, values: readonly unknown[], start: number, end: number, nulls: number): Statistics & { nan_count?: bigint } {
  if (column.type === 'string') throw new Error(`column ${column.name}: statistics are written for numbers and instants only`);
  let min = Infinity;
  let max = -Infinity;
  let nans = 0;
  for (let i = start; i < end; i++) {
    const value = values[i] as number | null;
    if (value === null || value === undefined) continue;
    if (value !== value) nans++;
    else {
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  const any = min <= max;
  return {
    // The format orders -0 before +0: a bound of zero is -0 as a minimum and +0 as a maximum.
    ...(any && { min_value: min === 0 ? -0 : min, max_value: max === 0 ? 0 : max }),
    null_count: BigInt(nulls),
    ...(column.type === 'double' && { nan_count: BigInt(nans) }),
  };
}

/** A lake file being written a row group at a time (lakeFileBuilder). */
export interface LakeFileBuilder {
  /** Appends one row group: one array per column, in `columns` order, all of the same length (none if empty). */
  writeRowGroup(data: readonly (readonly unknown[])[]): void;
  /** Rows written so far. */
  readonly rows: number;
  /** The footer written; the file's bytes. */
  finish(): Uint8Array;
}

/**
 * The file writeParquet writes, a row group at a time: the same bytes for the same rows cut into
 * the same groups. For the compactor, whose files hold millions of rows that arrive in order from
 * its merge and are never all in memory as columns; only the file's bytes are, until finish.
 */
export function lakeFileBuilder(options: Omit<WriteOptions, 'data' | 'rowGroupRows'>): LakeFileBuilder {
  const { columns } = options;
  const out = new ByteWriter(1 << 20);
  out.appendUint32(0x31524150); // PAR1
  const rowGroups: RowGroup[] = [];
  const chunks: { chunk: ColumnChunk; offsetIndex?: OffsetIndexOf }[] = [];
  let rows = 0;
  return {
    writeRowGroup(data) {
      const count = data[0]?.length ?? 0;
      if (data.length !== columns.length || data.some((values) => values.length !== count)) throw new Error('a row group needs one array per column, all of the same length');
      if (count === 0) return;
      const groupStart = out.offset;
      const groupChunks = columns.map((column, j) => writeChunk(out, column, data[j]!, 0, count, { ...options, data, rowGroupRows: count }));
      chunks.push(...groupChunks);
      rowGroups.push({
        columns: groupChunks.map((c) => c.chunk),
        total_byte_size: groupChunks.reduce((n, c) => n + c.chunk.meta_data!.total_uncompressed_size, 0n),
        num_rows: BigInt(count),
        total_compressed_size: BigInt(out.offset - groupStart),
      });
      rows += count;
    },
    get rows() {
      return rows;
    },
    finish() {
      const schema: SchemaElement[] = [
        { name: 'root', num_children: columns.length },
        ...columns.map((c) => ({ name: c.name, ...PHYSICAL[c.type], repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const) })),
      ];
      writeIndexes(out, chunks);
      writeMetadata(out, { version: 2, created_by: options.createdBy, schema, num_rows: BigInt(rows), row_groups: rowGroups, metadata_length: 0 });
      out.appendUint32(0x31524150);
      return out.getBytes();
    },
  };
}
