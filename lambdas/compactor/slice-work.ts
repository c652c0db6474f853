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
import { arrivedBefore, mergeRows, type CopyLineage } from './merge-rows.ts';
import { readLakeColumnGroups } from './parquet-reader.ts';
import { BUCKETS, bucketOf } from './slice-hour.ts';
import { readSpill, readSpillColumns, removeSpill, SpillWriter } from './spill-file.ts';

/** Rows encoded to estimate a compacted file's bytes per row. */
const SAMPLE_ROWS = 20_000;
const column = (name: string) => LAKE_COLUMNS.findIndex((c) => c.name === name);
const SESSION_COLUMN = column('session_id');
const EVENT_ID_COLUMN = column('event_id');
/** What the id spills hold of each row: enough to find an event's copies in two sessions and pick the one kept. */
const ID_COLUMNS = ['event_id', 'session_id', 'ingest_time', 'source_topic', 'source_partition', 'source_offset'].map(column);

export interface Spill {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
}

/** Column arrays in LAKE_COLUMNS' order: a row group as readLakeColumnGroups gives it, or a spill frame. */
export type Columns = readonly (readonly unknown[])[];

/**
 * Rows spread over BUCKETS spill files by session, at one level; a file is opened at its first row.
 * At the first level each row's ids and lineage also go to id spills, spread by event_id, where
 * copies of an event meet whatever their sessions (copiesToDrop).
 */
export class Spreader {
  private readonly writers: (SpillWriter | undefined)[] = new Array<SpillWriter | undefined>(BUCKETS).fill(undefined);
  private readonly idWriters: (SpillWriter | undefined)[] = new Array<SpillWriter | undefined>(BUCKETS).fill(undefined);

  constructor(
    private readonly path: string,
    private readonly level: number,
  ) {}

  take(columns: Columns): void {
    const sessions = columns[SESSION_COLUMN]!;
    const ids = columns[EVENT_ID_COLUMN]!;
    for (let i = 0; i < sessions.length; i++) {
      const b = bucketOf(sessions[i] as string, this.level);
      (this.writers[b] ??= new SpillWriter(`${this.path}-${b}`)).pushFrom(columns, i);
      if (this.level > 0) continue;
      const idBucket = bucketOf(ids[i] as string, 0);
      (this.idWriters[idBucket] ??= new SpillWriter(`${this.path}-id-${idBucket}`, ID_COLUMNS)).pushFrom(columns, i);
    }
  }

  /** Every row of a lake Parquet file. */
  async takeFile(body: Uint8Array): Promise<void> {
    for await (const columns of readLakeColumnGroups(body)) this.take(columns);
  }

  /** Each bucket's file (rows 0 and no file where it had none), and each id bucket's. */
  close(): SpreadFiles {
    const closed = (writers: (SpillWriter | undefined)[], name: (b: number) => string) =>
      writers.map((w, b) => {
        w?.close();
        return { path: name(b), rows: w?.rows ?? 0, bytes: w?.bytes ?? 0 };
      });
    return { buckets: closed(this.writers, (b) => `${this.path}-${b}`), ids: closed(this.idWriters, (b) => `${this.path}-id-${b}`) };
  }
}

export interface SpreadFiles {
  /** The rows by session bucket. */
  readonly buckets: Spill[];
  /** The rows' ids and lineage by event_id bucket (the first level only). */
  readonly ids: Spill[];
}

/**
 * The copies to drop that no slice would meet: for each event whose copies carry two sessions (a
 * sender re-sent the event_id under another; slices are cut by session, so those copies can fall in
 * two), the copy kept, named by its source (copyKey); every other copy of it is dropped as its slice
 * is merged. `ids`: the id spills of every thread, each bucket read on its own (an event's copies share
 * its bucket), so memory follows a bucket, not the hour. Empty for a lake whose copies keep their session.
 */
export function copiesToDrop(ids: readonly Spill[][]): Map<string, string> {
  const kept = new Map<string, string>();
  for (const bucket of ids) {
    const first = new Map<string, { session: string; copy: CopyLineage }>();
    const differ = new Set<string>();
    for (const spill of bucket) {
      if (spill.rows === 0) continue;
      for (const [eventIds, sessions, ingest, topics, partitions, offsets] of readSpillColumns(spill.path)) {
        for (let i = 0; i < eventIds!.length; i++) {
          const id = eventIds![i] as string;
          const copy = { ingest_time: ingest![i] as number, source_topic: topics![i] as string, source_partition: partitions![i] as number, source_offset: offsets![i] as string };
          const seen = first.get(id);
          if (!seen) first.set(id, { session: sessions![i] as string, copy });
          else {
            if (seen.session !== sessions![i]) differ.add(id);
            if (arrivedBefore(copy, seen.copy)) first.set(id, { session: sessions![i] as string, copy });
          }
        }
      }
      removeSpill(spill.path);
    }
    for (const id of differ) kept.set(id, copyKey(first.get(id)!.copy));
  }
  return kept;
}

/** A copy's source, which names it among an event's copies (a re-delivered record has the same, and the same content). */
export function copyKey(copy: CopyLineage): string {
  return `${copy.source_topic}\u0000${copy.source_partition}\u0000${copy.source_offset}`;
}

/** One slice merged: its rollups' rows, its sorted run on disk, and its counts. */
export interface MergedSlice {
  /** The `sessions` rollup's rows: the hour's for the slice's sessions, as no session spans two slices; by last time. */
  readonly sessions: RollupGroup[];
  /** The other rollups' groups of the slice's rows, combined over the slices by the caller. */
  readonly activity: RollupGroup[];
  readonly products: RollupGroup[];
  readonly product_minutes: RollupGroup[];
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
export async function mergeSlice(paths: readonly string[], runPath: string, sample: { readonly rowGroupRows: number } | undefined, drop: ReadonlyMap<string, string> = new Map()): Promise<MergedSlice> {
  let dropped = 0;
  const merged = mergeRows(
    (function* () {
      for (const path of paths) {
        for (const rows of readSpill(path)) {
          if (drop.size === 0) yield rows;
          else {
            const kept = rows.filter((row) => {
              const keep = drop.get(row.event_id);
              return keep === undefined || keep === copyKey(row);
            });
            dropped += rows.length - kept.length;
            yield kept;
          }
        }
      }
    })(),
  );
  const partial = (name: 'activity' | 'products' | 'product_minutes') => {
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
    sessions: rollupRows('sessions', merged.rows).sort((a, b) => (a.last_time as number) - (b.last_time as number)),
    activity: partial('activity'),
    products: partial('products'),
    product_minutes: partial('product_minutes'),
    run: { path: run.path, rows: run.rows, bytes: run.bytes },
    rows: merged.rows.length,
    duplicatesDropped: merged.duplicatesDropped + dropped,
    ...(bytesPerRow !== undefined && { bytesPerRow }),
  };
}
