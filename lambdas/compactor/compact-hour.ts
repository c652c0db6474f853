/**
 * One hour's new generation, in memory bounded by `sliceRows` whatever the
 * hour's size (docs/architecture.md, "Compaction"):
 * 1. every input row is spread over BUCKETS spill files on local disk by a hash
 *    of its session (slice-hour.ts), so each session, and each event's copies that
 *    kept its session, fall in one bucket; its ids go to id spills by event_id, where
 *    copies under two sessions are found and all but one named to drop (copiesToDrop);
 * 2. buckets are packed into slices of at most `sliceRows` rows (a bucket bigger
 *    than that is spread again, one level down);
 * 3. each slice is read back, one row kept per event_id and sorted (mergeRows),
 *    its rollups grouped and its sorted rows spilled again as a run; its
 *    `sessions` rollup rows become a row group of that rollup's file, and its
 *    `activity` and `products` groups are added to the hour's (bounded by
 *    minutes, types and products, not events), in slice order;
 * 4. the runs are merged into event-time order (mergeSortedColumns) and cut into files
 *    of about targetFileBytes, written a row group at a time.
 * An hour that fits one slice takes the same path, with one slice and one run:
 * the files hold the same rows either way (in the same event-time order before each row
 * group's rows are put in session order, which follows where the files are cut). Steps 1 and 3 run in
 * worker threads when the function has more than one vCPU (slice-workers.ts), each
 * input file and each slice in one of them, the slice budget divided among them;
 * what each returns does not depend on where it ran, so neither do the files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import type { CompactedFile, RollupFiles } from '../common/compaction-manifest.ts';
import type { ObjectStore } from '../consumer/object-store.ts';
import { encodeTable, lakeFileWriter, tableFileWriter } from '../consumer/parquet-encoder.ts';
import { ROLLUP_COLUMNS, ROLLUP_NAMES, rollupBuilder, type RollupGroup } from '../query/rollups.ts';
import { bySession, fileRowCounts, mergeSortedColumns } from './merge-rows.ts';
import { packBuckets } from './slice-hour.ts';
import { mapWithLimit } from '../common/map-with-limit.ts';
import { copiesToDrop, Spreader, type Columns, type MergedSlice, type Spill } from './slice-work.ts';
import { sliceRunner, type WorkerThreads } from './slice-workers.ts';
import { readSpillColumns, removeSpill } from './spill-file.ts';

export interface HourPlan {
  /** `year=…/hour=HH`. */
  readonly hour: string;
  readonly generation: number;
  readonly runId: string;
  readonly store: ObjectStore;
  /** The most rows the slices being merged hold in memory at once (divided among the worker threads). */
  readonly sliceRows: number;
  /** A directory of this run's own on local disk, for the spill files. */
  readonly spillDir: string;
  readonly targetFileBytes: number;
  readonly rowGroupRows: number;
  /** Worker threads for the spreading and the slices. @default none: all in this thread */
  readonly workers?: WorkerThreads;
  /** @default MAX_PRODUCT_MINUTE_GROUPS */
  readonly maxProductMinuteGroups?: number;
}

export interface HourWritten {
  readonly files: CompactedFile[];
  readonly rollups: RollupFiles;
  readonly rows: number;
  readonly duplicatesDropped: number;
  /** Slices the hour was merged in (1 when it fits the budget). */
  readonly slices: number;
  /** The most rows one slice held at once: what the run's memory grows with, never above its share of sliceRows. */
  readonly peakSliceRows: number;
  /** Bytes written to local disk at the most, at once. */
  readonly peakSpillBytes: number;
  /** Threads that spread and merged the hour (1: the compactor's own). */
  readonly threads: number;
  /** Wall seconds of each step: reading and spreading (parallel), merging the slices (parallel), writing the files (this thread alone). */
  readonly seconds: { readonly spread: number; readonly merge: number; readonly write: number };
}

/** What the hour is read from: each input file, and the late files' rows of this hour (column arrays, as readLakeColumnGroups gives them). */
export interface HourInput {
  file(body: Uint8Array): Promise<void>;
  columns(columns: Columns): Promise<void>;
}

/** Levels of spreading before a bucket counts as one session too big for a slice (64^4 buckets). */
const MAX_LEVELS = 4;

/** A bucket's rows: a file from each thread that spread rows into it. */
interface Bucket {
  readonly spills: readonly Spill[];
  readonly rows: number;
  readonly bytes: number;
}

const bucketOfSpills = (spills: readonly Spill[]): Bucket => ({ spills: spills.filter((s) => s.rows > 0), rows: spills.reduce((n, s) => n + s.rows, 0), bytes: spills.reduce((n, s) => n + s.bytes, 0) });

/** The slice budget cannot be met: the reason the hour is left as it is. */
export class SliceTooBigError extends Error {}

/**
 * Rows per row group of the rollups a range's partial first hour is read from (`sessions`, by last
 * time in each slice; `product_minutes`, by minute): a suffix of the hour skips the groups that end
 * before it (dashboard-statement.ts). A scratch measurement sized it: a suffix's `sessions` rows read
 * 6.6-7.5 bytes an event of it at this size in one sorted file (docs/architecture.md, step 2).
 */
export const SUFFIX_ROW_GROUP_ROWS = 16_384;

/**
 * The most `product_minutes` groups an hour's run holds (about 730 bytes each, measured: at most about
 * 105 MiB, which lib/compactor.ts counts beside the slices). Its groups are the products viewed or
 * sold in each minute: a catalog of 2,000 products at 5,000 events/s gives 2,001 a minute (measured:
 * each product, and the events of none), 120,000 an hour; one of over about 2,500 products seen every
 * minute more than this. Such an hour is written without `product_minutes`, and a range's partial
 * first hour in it is read from its events (dashboard-statement.ts, suffixOf): exact, at the cost of before.
 */
export const MAX_PRODUCT_MINUTE_GROUPS = 150_000;

const byMinute = (rows: RollupGroup[]) => rows.sort((a, b) => (a.event_minute as number) - (b.event_minute as number));

/**
 * Reads the hour's inputs through `read` (every file and row; false if an input vanished) and
 * writes its files and rollups under names of this run. Returns undefined if an input vanished.
 * The caller commits them, or deletes them.
 */
export async function compactHour(plan: HourPlan, read: (input: HourInput) => Promise<boolean>): Promise<HourWritten | undefined> {
  const dir = mkdtempSync(join(plan.spillDir, 'hour-'));
  const runner = sliceRunner(dir, plan.workers);
  const began = performance.now();
  const marks: number[] = [];
  let spillBytes = 0;
  let peakSpillBytes = 0;
  const spilled = (bytes: number) => (peakSpillBytes = Math.max(peakSpillBytes, (spillBytes += bytes)));
  try {
    // 1-2. Spread by session, pack into slices.
    let complete = false;
    let spread: { readonly buckets: Spill[][]; readonly ids: Spill[][] };
    try {
      complete = await read({ file: (body) => runner.spreadFile(body), columns: (columns) => runner.spreadColumns(columns) });
    } finally {
      spread = await runner.closeSpread();
    }
    if (!complete) return undefined;
    // Copies of an event under two sessions would meet in no slice: the one kept is chosen here.
    const spreadBytes = [...spread.buckets, ...spread.ids].flat().reduce((n, s) => n + s.bytes, 0);
    spilled(spreadBytes);
    const drop = copiesToDrop(spread.ids);
    spilled(-spreadBytes);
    marks.push(performance.now());
    // Each thread merging a slice at once holds its own: the budget is theirs together.
    const budget = Math.max(1, Math.floor(plan.sliceRows / runner.threads));
    const slices: Bucket[][] = [];
    const pack = (buckets: Bucket[], level: number) => {
      spilled(buckets.reduce((n, b) => n + b.bytes, 0));
      const { slices: packed, over } = packBuckets(buckets.map((b) => b.rows), budget);
      for (const group of packed) slices.push(group.map((b) => buckets[b]!));
      for (const b of over) {
        const big = buckets[b]!;
        if (level + 1 >= MAX_LEVELS) throw new SliceTooBigError(`${big.rows.toLocaleString('en-US')} rows of one session or a few, over the slice budget of ${budget.toLocaleString('en-US')} rows: give the compactor more memory (CLICKSTREAM_COMPACTION_SLICE_ROWS)`);
        const down = new Spreader(big.spills[0]!.path, level + 1);
        for (const spill of big.spills) {
          for (const frame of readSpillColumns(spill.path)) down.take(frame);
          removeSpill(spill.path);
        }
        spillBytes -= big.bytes;
        pack(down.close().buckets.map((s) => bucketOfSpills([s])), level + 1);
      }
    };
    pack(spread.buckets.map(bucketOfSpills), 0);

    // 3. Each slice: one row per event, sorted; its rollups; a sorted run on disk. As many at once
    // as there are threads; their results are taken in slice order, so the files do not depend on
    // which finished first.
    const sessions = await tableFileWriter(ROLLUP_COLUMNS.sessions);
    const activity = rollupBuilder('activity');
    const products = rollupBuilder('products');
    let productMinutes: ReturnType<typeof rollupBuilder> | undefined = rollupBuilder('product_minutes');
    const merged: (MergedSlice | undefined)[] = [];
    let taken = 0;
    let rows = 0;
    let duplicatesDropped = 0;
    let peakSliceRows = 0;
    let bytesPerRow: number | undefined;
    const take = (slice: MergedSlice) => {
      peakSliceRows = Math.max(peakSliceRows, slice.rows);
      for (let i = 0; i < slice.sessions.length; i += SUFFIX_ROW_GROUP_ROWS) sessions.writeRowGroup(slice.sessions.slice(i, i + SUFFIX_ROW_GROUP_ROWS));
      activity.addGroups(slice.activity);
      products.addGroups(slice.products);
      // Over the most it may hold (by one slice's new groups at most: most of a slice's are the hour's already,
      // its sessions spanning the hour), the builder goes, and the hour is written without it.
      productMinutes?.addGroups(slice.product_minutes);
      if (productMinutes && productMinutes.groups > (plan.maxProductMinuteGroups ?? MAX_PRODUCT_MINUTE_GROUPS)) productMinutes = undefined;
      bytesPerRow ??= slice.bytesPerRow;
      rows += slice.rows;
      duplicatesDropped += slice.duplicatesDropped;
    };
    const runs = await mapWithLimit([...slices.entries()], runner.threads, async ([i, slice]) => {
      // Rows per file are estimated from the first slice's rows (mergeSlice's sample); no slice is empty.
      const result = await runner.mergeSlice(
        slice.flatMap((b) => b.spills.map((s) => s.path)),
        join(dir, `run-${i}`),
        i === 0 ? { rowGroupRows: plan.rowGroupRows } : undefined,
        drop,
      );
      spilled(result.run.bytes - slice.reduce((n, b) => n + b.bytes, 0));
      merged[i] = result;
      while (merged[taken]) {
        take(merged[taken]!);
        merged[taken++] = undefined;
      }
      return result.run;
    });
    await runner.close();
    marks.push(performance.now());

    // 4. The runs merged in event-time order, cut into files written a row group at a time; a file is
    // uploaded while the next is encoded.
    const maxRows = Math.max(1, Math.floor(plan.targetFileBytes / (bytesPerRow ?? 1)));
    const ordered = mergeSortedColumns(runs.map((r) => readSpillColumns(r.path)));
    const files: CompactedFile[] = [];
    let upload: Promise<void> = Promise.resolve();
    for (const [i, count] of fileRowCounts(rows, maxRows).entries()) {
      const writer = await lakeFileWriter();
      // Row groups in event-time order (engines skip them by time); the rows inside each by session.
      for (let n = 0; n < count; n += plan.rowGroupRows) writer.writeRowGroup(bySession(ordered.take(Math.min(plan.rowGroupRows, count - n))));
      // A copy of exactly the file's bytes: the writer's buffer grows by doubling, and a file is held until its PUT.
      const body = Buffer.from(writer.finish());
      const key = `${LAKE_PREFIXES.compacted}${plan.hour}/g${plan.generation}-${plan.runId}-${i}.parquet`;
      await upload;
      upload = plan.store.put(key, body, 'application/vnd.apache.parquet').then(() => void files.push({ key, rows: count, bytes: body.byteLength }));
    }
    await upload;

    const names = ROLLUP_NAMES.filter((name) => name !== 'product_minutes' || productMinutes);
    const rollups = Object.fromEntries(names.map((name) => [name, `${LAKE_PREFIXES.rollups}${name}/${plan.hour}/g${plan.generation}-${plan.runId}.parquet`])) as RollupFiles;
    await Promise.all([
      plan.store.put(rollups.sessions, sessions.finish(), 'application/vnd.apache.parquet'),
      plan.store.put(rollups.activity, await encodeTable(ROLLUP_COLUMNS.activity, activity.rows()), 'application/vnd.apache.parquet'),
      plan.store.put(rollups.products, await encodeTable(ROLLUP_COLUMNS.products, products.rows()), 'application/vnd.apache.parquet'),
      ...(productMinutes ? [plan.store.put(rollups.product_minutes!, await encodeTable(ROLLUP_COLUMNS.product_minutes, byMinute(productMinutes.rows()), SUFFIX_ROW_GROUP_ROWS), 'application/vnd.apache.parquet')] : []),
    ]);
    const [spreadEnd = began, mergeEnd = began] = marks;
    const seconds = { spread: (spreadEnd - began) / 1000, merge: (mergeEnd - spreadEnd) / 1000, write: (performance.now() - mergeEnd) / 1000 };
    return { files, rollups, rows, duplicatesDropped, slices: slices.length, peakSliceRows, peakSpillBytes, threads: runner.threads, seconds };
  } finally {
    await runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
