/**
 * Lake Parquet back to rows, as the consumer wrote them (the writer's inverse):
 * hyparquet, with instants as milliseconds (the writer's input), not Dates.
 * zstd pages are decompressed by fzstd (pure JavaScript, what hyparquet's own
 * compressor package uses): the writer's WebAssembly build failed on the
 * compactor's many large reads in one process ("code -72"), where its heap grows.
 */
import { decompress as zstdDecompress } from 'fzstd';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { LakeRow } from '../consumer/plan-batch.ts';

const compressors = { ZSTD: (input: Uint8Array, outputLength: number) => zstdDecompress(input, new Uint8Array(outputLength)) };
const parsers = { timestampFromMilliseconds: (ms: bigint) => Number(ms) };

const arrayBufferOf = (body: Uint8Array) => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;

/**
 * Optional columns read back as null where the writer had left a field out: drop them, so a row
 * re-encoded is the row that was read (the writer treats null and absent alike).
 */
function withoutNulls(rows: Record<string, unknown>[]): LakeRow[] {
  for (const row of rows) for (const key of Object.keys(row)) if (row[key] === null) delete row[key];
  return rows as unknown as LakeRow[];
}

export async function readLakeRows(body: Uint8Array): Promise<LakeRow[]> {
  return withoutNulls(await parquetReadObjects({ file: arrayBufferOf(body), compressors, parsers }));
}

/** A file's rows one row group at a time: a compacted file holds millions of rows, a row group 131,072 at most. */
export async function* readLakeRowGroups(body: Uint8Array): AsyncGenerator<LakeRow[]> {
  const file = arrayBufferOf(body);
  const metadata = parquetMetadata(file);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    yield withoutNulls(await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors, parsers }));
    rowStart = rowEnd;
  }
}
