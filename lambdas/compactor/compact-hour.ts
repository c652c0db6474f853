/**
 * One hour's new generation, in memory bounded by `sliceRows` whatever the
 * hour's size (docs/architecture.md, "Compaction"):
 * 1. every input row is spread over BUCKETS spill files on local disk by a hash
 *    of its session (slice-hour.ts), so each event's copies, and each session,
 *    fall in one bucket;
 * 2. buckets are packed into slices of at most `sliceRows` rows (a bucket bigger
 *    than that is spread again, one level down);
 * 3. each slice in turn is read back, one row kept per event_id and sorted
 *    (mergeRows), its `sessions` rollup rows written as a row group of that
 *    rollup's file, its `activity` and `products` groups added to the hour's
 *    (bounded by minutes, types and products, not events), and its sorted rows
 *    spilled again as a run;
 * 4. the runs are merged into event-time order (mergeSorted) and cut into files
 *    of about targetFileBytes, written a row group at a time.
 * An hour that fits one slice takes the same path, with one slice and one run:
 * the files hold the same rows in the same order either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import type { CompactedFile, RollupFiles } from '../common/compaction-manifest.ts';
import type { ObjectStore } from '../consumer/object-store.ts';
import { encodeParquet, encodeTable, lakeFileWriter, tableFileWriter } from '../consumer/parquet-encoder.ts';
import type { LakeRow } from '../consumer/plan-batch.ts';
import { ROLLUP_COLUMNS, ROLLUP_NAMES, rollupBuilder, rollupRows } from '../query/rollups.ts';
import { fileRowCounts, mergeRows, mergeSorted } from './merge-rows.ts';
import { BUCKETS, bucketOf, packBuckets } from './slice-hour.ts';
import { readSpill, readSpillColumns, removeSpill, SpillWriter, spillRows } from './spill-file.ts';

export interface HourPlan {
  /** `year=…/hour=HH`. */
  readonly hour: string;
  readonly generation: number;
  readonly runId: string;
  readonly store: ObjectStore;
  /** The most rows one slice holds in memory. */
  readonly sliceRows: number;
  /** A directory of this run's own on local disk, for the spill files. */
  readonly spillDir: string;
  readonly targetFileBytes: number;
  readonly rowGroupRows: number;
}

export interface HourWritten {
  readonly files: CompactedFile[];
  readonly rollups: RollupFiles;
  readonly rows: number;
  readonly duplicatesDropped: number;
  /** Slices the hour was merged in (1 when it fits the budget). */
  readonly slices: number;
  /** The most rows one slice held at once: what the run's memory grows with, never above sliceRows. */
  readonly peakSliceRows: number;
  /** Bytes written to local disk at the most, at once. */
  readonly peakSpillBytes: number;
}

/** Rows encoded to estimate a compacted file's bytes per row. */
const SAMPLE_ROWS = 20_000;
/** Levels of spreading before a bucket counts as one session too big for a slice (64^4 buckets). */
const MAX_LEVELS = 4;
const SESSION_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'session_id');

interface Spill {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

/** Rows spread over BUCKETS spill files by session, at one level; a file is opened at its first row. */
class Spreader {
  private readonly writers: (SpillWriter | undefined)[] = new Array<SpillWriter | undefined>(BUCKETS).fill(undefined);

  constructor(
    private readonly path: string,
    private readonly level: number,
  ) {}

  /** Column arrays in LAKE_COLUMNS' order (a row group as readLakeColumnGroups gives it, or a spill frame). */
  take(columns: readonly (readonly unknown[])[]): void {
    const sessions = columns[SESSION_COLUMN]!;
    for (let i = 0; i < sessions.length; i++) {
      const b = bucketOf(sessions[i] as string, this.level);
      (this.writers[b] ??= new SpillWriter(`${this.path}-${b}`)).pushFrom(columns, i);
    }
  }

  close(): Spill[] {
    return this.writers.map((w, b) => {
      w?.close();
      return { path: `${this.path}-${b}`, rows: w?.rows ?? 0, bytes: w?.bytes ?? 0 };
    });
  }
}

/** The slice budget cannot be met: the reason the hour is left as it is. */
export class SliceTooBigError extends Error {}

/**
 * Reads the hour's inputs through `read` (every row, a row group at a time as column arrays; false if an input
 * vanished) and writes its files and rollups under names of this run. Returns undefined if an
 * input vanished. The caller commits them, or deletes them.
 */
export async function compactHour(plan: HourPlan, read: (take: (columns: readonly (readonly unknown[])[]) => void) => Promise<boolean>): Promise<HourWritten | undefined> {
  const dir = mkdtempSync(join(plan.spillDir, 'hour-'));
  let spillBytes = 0;
  let peakSpillBytes = 0;
  const spilled = (bytes: number) => (peakSpillBytes = Math.max(peakSpillBytes, (spillBytes += bytes)));
  try {
    // 1-2. Spread by session, pack into slices.
    const top = new Spreader(join(dir, 'b'), 0);
    let complete = false;
    let spread: Spill[];
    try {
      complete = await read((columns) => top.take(columns));
    } finally {
      spread = top.close();
    }
    if (!complete) return undefined;
    const slices: Spill[][] = [];
    const pack = (spills: Spill[], level: number) => {
      spilled(spills.reduce((n, s) => n + s.bytes, 0));
      const { slices: packed, over } = packBuckets(spills.map((s) => s.rows), plan.sliceRows);
      for (const group of packed) slices.push(group.map((b) => spills[b]!));
      for (const b of over) {
        const big = spills[b]!;
        if (level + 1 >= MAX_LEVELS) throw new SliceTooBigError(`${big.rows.toLocaleString('en-US')} rows of one session or a few, over the slice budget of ${plan.sliceRows.toLocaleString('en-US')} rows: give the compactor more memory (CLICKSTREAM_COMPACTION_SLICE_ROWS)`);
        const down = new Spreader(big.path, level + 1);
        for (const frame of readSpillColumns(big.path)) down.take(frame);
        removeSpill(big.path);
        spillBytes -= big.bytes;
        pack(down.close(), level + 1);
      }
    };
    pack(spread, 0);

    // 3. Each slice: one row per event, sorted; its rollups; a sorted run on disk.
    const sessions = await tableFileWriter(ROLLUP_COLUMNS.sessions);
    const activity = rollupBuilder('activity');
    const products = rollupBuilder('products');
    const runs: Spill[] = [];
    let rows = 0;
    let duplicatesDropped = 0;
    let peakSliceRows = 0;
    let bytesPerRow: number | undefined;
    for (const [i, slice] of slices.entries()) {
      const merged = mergeRows((function* () {
        for (const spill of slice) yield* readSpill(spill.path);
      })());
      peakSliceRows = Math.max(peakSliceRows, merged.rows.length);
      sessions.writeRowGroup(rollupRows('sessions', merged.rows));
      activity.add(merged.rows);
      products.add(merged.rows);
      // Rows per file from the size of a sample encoded as the files will be (sorted rows compress
      // better than the raw batches, so the inputs' size would overestimate it).
      if (bytesPerRow === undefined && merged.rows.length > 0) {
        const sample = merged.rows.slice(0, SAMPLE_ROWS);
        bytesPerRow = (await encodeParquet(sample, plan.rowGroupRows)).byteLength / sample.length;
      }
      const run = new SpillWriter(join(dir, `run-${i}`));
      for (const row of merged.rows) run.push(row);
      run.close();
      runs.push({ path: run.path, rows: run.rows, bytes: run.bytes });
      spilled(run.bytes);
      for (const spill of slice) removeSpill(spill.path);
      spilled(-slice.reduce((n, s) => n + s.bytes, 0));
      rows += merged.rows.length;
      duplicatesDropped += merged.duplicatesDropped;
    }

    // 4. The runs merged in event-time order, cut into files written a row group at a time; a file is
    // uploaded while the next is encoded.
    const maxRows = Math.max(1, Math.floor(plan.targetFileBytes / (bytesPerRow ?? 1)));
    const ordered = mergeSorted(runs.map((r) => spillRows(r.path)));
    const files: CompactedFile[] = [];
    let upload: Promise<void> = Promise.resolve();
    for (const [i, count] of fileRowCounts(rows, maxRows).entries()) {
      const writer = await lakeFileWriter();
      let group: LakeRow[] = [];
      for (let n = 0; n < count; n++) {
        group.push(ordered.next().value as LakeRow);
        if (group.length === plan.rowGroupRows) {
          writer.writeRowGroup(group);
          group = [];
        }
      }
      writer.writeRowGroup(group);
      const body = writer.finish();
      const key = `${LAKE_PREFIXES.compacted}${plan.hour}/g${plan.generation}-${plan.runId}-${i}.parquet`;
      await upload;
      upload = plan.store.put(key, body, 'application/vnd.apache.parquet').then(() => void files.push({ key, rows: count, bytes: body.byteLength }));
    }
    await upload;

    const rollups = Object.fromEntries(ROLLUP_NAMES.map((name) => [name, `${LAKE_PREFIXES.rollups}${name}/${plan.hour}/g${plan.generation}-${plan.runId}.parquet`])) as RollupFiles;
    await Promise.all([
      plan.store.put(rollups.sessions, sessions.finish(), 'application/vnd.apache.parquet'),
      plan.store.put(rollups.activity, await encodeTable(ROLLUP_COLUMNS.activity, activity.rows()), 'application/vnd.apache.parquet'),
      plan.store.put(rollups.products, await encodeTable(ROLLUP_COLUMNS.products, products.rows()), 'application/vnd.apache.parquet'),
    ]);
    return { files, rollups, rows, duplicatesDropped, slices: slices.length, peakSliceRows, peakSpillBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
