/**
 * Lake Parquet back to rows, as the consumer wrote them (the writer's inverse):
 * hyparquet, with zstd from the same WebAssembly build the writer uses, and
 * instants as milliseconds (the writer's input), not Dates.
 */
import { decompress as zstdDecompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { parquetReadObjects } from 'hyparquet';
import type { LakeRow } from '../consumer/plan-batch.ts';

let zstdReady: Promise<void> | undefined;

export async function readLakeRows(body: Uint8Array): Promise<LakeRow[]> {
  await (zstdReady ??= zstdInit());
  const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  const rows = await parquetReadObjects({
    file,
    compressors: { ZSTD: (input: Uint8Array, outputLength: number) => zstdDecompress(input, { defaultHeapSize: outputLength }) },
    parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) },
  });
  // Optional columns read back as null where the writer had left a field out: drop them, so a row
  // re-encoded is the row that was read (the writer treats null and absent alike).
  for (const row of rows) for (const key of Object.keys(row)) if (row[key] === null) delete row[key];
  return rows as unknown as LakeRow[];
}
