/**
 * The two steps of compacting an hour that run once per input file and once per
 * slice (compact-hour.ts): spreading an input's rows over bucket spill files by
 * session, and merging one slice. Each is the same code in the compactor's own
 * thread and in its worker threads (slice-workers.ts): what a step returns does not
 * depend on where it ran, so the files are the same for any number of workers.
 */
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { encodeParquet } from '../consumer/parquet-encoder.ts';
import { rollupBuilder, rollupRows, type RollupGroup } from '../query/rollups.ts';
import { mergeRows } from './merge-rows.ts';
import { readLakeColumnGroups } from './parquet-reader.ts';
import { BUCKETS, bucketOf } from './slice-hour.ts';
import { readSpill, removeSpill, SpillWriter } from './spill-file.ts';

/** Rows encoded to estimate a compacted file's bytes per row. */
const SAMPLE_ROWS = 20_000;
const SESSION_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'session_id');

export interface Spill {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

/** Column arrays in LAKE_COLUMNS' order: a row group as readLakeColumnGroups gives it, or a spill frame. */
export type Columns = readonly (readonly unknown[])[];

/** Rows spread over BUCKETS spill files by session, at one level; a file is opened at its first row. */
export class Spreader {
  private readonly writers: (SpillWriter | undefined)[] = new Array<SpillWriter | undefined>(BUCKETS).fill(undefined);

  constructor(
    private readonly path: string,
    private readonly level: number,
  ) {}

  take(columns: Columns): void {
    const sessions = columns[SESSION_COLUMN]!;
    for (let i = 0; i < sessions.length; i++) {
      const b = bucketOf(sessions[i] as string, this.level);
      (this.writers[b] ??= new SpillWriter(`${this.path}-${b}`)).pushFrom(columns, i);
    }
  }

  /** Every row of a lake Parquet file. */
  async takeFile(body: Uint8Array): Promise<void> {
    for await (const columns of readLakeColumnGroups(body)) this.take(columns);
  }

  /** Each bucket's file (rows 0 and no file where it had none). */
  close(): Spill[] {
    return this.writers.map((w, b) => {
      w?.close();
      return { path: `${this.path}-${b}`, rows: w?.rows ?? 0, bytes: w?.bytes ?? 0 };
    });
  }
}

/** One slice merged: its rollups' rows, its sorted run on disk, and its counts. */
export interface MergedSlice {
  /** The `sessions` rollup's rows: the hour's for the slice's sessions, as no session spans two slices. */
  readonly sessions: RollupGroup[];
  /** The `activity` and `products` groups of the slice's rows, combined over the slices by the caller. */
  readonly activity: RollupGroup[];
  readonly products: RollupGroup[];
  readonly run: Spill;
  readonly rows: number;
  readonly duplicatesDropped: number;
  /** Bytes per row of its first rows encoded as the compacted files are, if asked for. */
  readonly bytesPerRow?: number;
}

/**
 * A slice's spill files read back, one row kept per event_id and sorted (mergeRows), its rollups
 * grouped, and its rows written to `runPath` as a sorted run; the spill files are removed.
 */
export async function mergeSlice(paths: readonly string[], runPath: string, sample: { readonly rowGroupRows: number } | undefined): Promise<MergedSlice> {
  const merged = mergeRows(
    (function* () {
      for (const path of paths) yield* readSpill(path);
    })(),
  );
  const partial = (name: 'activity' | 'products') => {
    const builder = rollupBuilder(name);
    builder.add(merged.rows);
    return builder.rows();
  };
  // Rows per file from the size of a sample encoded as the files will be (sorted rows compress
  // better than the raw batches, so the inputs' size would overestimate it).
  let bytesPerRow: number | undefined;
  if (sample && merged.rows.length > 0) {
    const rows = merged.rows.slice(0, SAMPLE_ROWS);
    bytesPerRow = (await encodeParquet(rows, sample.rowGroupRows)).byteLength / rows.length;
  }
  const run = new SpillWriter(runPath);
  for (const row of merged.rows) run.push(row);
  run.close();
  for (const path of paths) removeSpill(path);
  return {
    sessions: rollupRows('sessions', merged.rows),
    activity: partial('activity'),
    products: partial('products'),
    run: { path: run.path, rows: run.rows, bytes: run.bytes },
    rows: merged.rows.length,
    duplicatesDropped: merged.duplicatesDropped,
    ...(bytesPerRow !== undefined && { bytesPerRow }),
  };
}
