/**
 * Lake Parquet back to rows, as the consumer wrote them (the writer's inverse):
 * hyparquet, with instants as milliseconds (the writer's input), not Dates.
 * zstd pages are decompressed by fzstd (pure JavaScript, what hyparquet's own
 * compressor package uses): the writer's WebAssembly build failed on the
 * compactor's many large reads in one process ("code -72"), where its heap grows.
 */
import { decompress as zstdDecompress } from 'fzstd';
import { parquetMetadata, parquetRead, parquetReadObjects } from 'hyparquet';
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
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

/** Each lake column's place in LAKE_COLUMNS. */
const COLUMN_INDEX = new Map(LAKE_COLUMNS.map((c, j) => [c.name, j]));

/**
 * A file's rows one row group at a time as column arrays in LAKE_COLUMNS' order (null where a row
 * has no value): what the compactor spills, read without making an object per row, which cost
 * more than decoding the pages (docs/benchmarks.md, "Compaction").
 */
export async function* readLakeColumnGroups(body: Uint8Array): AsyncGenerator<unknown[][]> {
  const file = arrayBufferOf(body);
  const metadata = parquetMetadata(file);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    const columns = LAKE_COLUMNS.map(() => new Array<unknown>(rows).fill(null));
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd: rowStart + rows,
      compressors,
      parsers,
      onChunk: ({ columnName, columnData, rowStart: chunkStart }) => {
        const column = columns[COLUMN_INDEX.get(columnName) ?? -1];
        if (!column) return; // a column the lake no longer has
        const offset = chunkStart - rowStart;
        for (let i = 0; i < columnData.length; i++) column[offset + i] = columnData[i] ?? null;
      },
    });
    yield columns;
    rowStart += rows;
  }
}

/** One column's values of a lake file, in no particular order (only that column's pages are read). */
export async function readLakeColumn(body: Uint8Array, name: string): Promise<unknown[]> {
  const values: unknown[] = [];
  const onChunk = ({ columnData }: { columnData: ArrayLike<unknown> }) => {
    for (let i = 0; i < columnData.length; i++) values.push(columnData[i]);
  };
  await parquetRead({ file: arrayBufferOf(body), columns: [name], compressors, parsers, onChunk });
  return values;
}
