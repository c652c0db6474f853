/**
 * Lake Parquet back to rows, as the consumer wrote them (the writer's inverse):
 * hyparquet, with instants as milliseconds (the writer's input), not Dates.
 * zstd pages are decompressed by fzstd (pure JavaScript, what hyparquet's own
 * compressor package uses): the writer's WebAssembly build failed on the
 * compactor's many large reads in one process ("code -72"), where its heap grows.
 */
import { decompress as zstdDecompress } from 'fzstd';
import { parquetReadObjects } from 'hyparquet';
import type { LakeRow } from '../consumer/plan-batch.ts';

export async function readLakeRows(body: Uint8Array): Promise<LakeRow[]> {
  const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  const rows = await parquetReadObjects({
    file,
    compressors: { ZSTD: (input: Uint8Array, outputLength: number) => zstdDecompress(input, new Uint8Array(outputLength)) },
    parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) },
  });
  // Optional columns read back as null where the writer had left a field out: drop them, so a row
  // re-encoded is the row that was read (the writer treats null and absent alike).
  for (const row of rows) for (const key of Object.keys(row)) if (row[key] === null) delete row[key];
  return rows as unknown as LakeRow[];
}
