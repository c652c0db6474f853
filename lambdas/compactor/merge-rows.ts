/**
 * The compactor's pure core: one row per event_id, sorted by event time so that
 * engines skip row groups outside a query's range, cut into files of a bounded
 * size. Of an event's copies in the hour (they can differ: a re-send's corrected
 * clock, a careless sender) the one kept is the first to arrive (the earliest
 * ingest_time, then source: arrivedBefore), as every reader's de-duplication keeps, so the
 * freshness panel's newest ingest time is the same before and after compaction.
 * An hour too big for memory is merged a slice at a time (slice-hour.ts), each
 * slice's rows sorted alone, and the sorted slices merged into the hour's order
 * (mergeSortedColumns): the same rows in the same order as one slice would give (each row
 * group's rows are then written in session order: bySession).
 */
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { heapify, popMin, siftDown } from '../common/min-heap.ts';
import type { LakeRow } from '../consumer/plan-batch.ts';

export interface MergedRows {
  readonly rows: LakeRow[];
  readonly duplicatesDropped: number;
}

/**
 * Whether copy `a` of an event arrived before copy `b`: the earlier ingest time, and for copies ingested
 * in the same millisecond the earlier source (topic, partition, offset; the offset as text, as SQL compares
 * its VARCHAR column), as the local engine orders them;
 * so copies that differ (a sender can re-send an event_id with other content) are picked the same way
 * whatever order they are read in.
 */
export function arrivedBefore(a: CopyLineage, b: CopyLineage): boolean {
  if (a.ingest_time !== b.ingest_time) return a.ingest_time < b.ingest_time;
  if (a.source_topic !== b.source_topic) return a.source_topic < b.source_topic;
  if (a.source_partition !== b.source_partition) return a.source_partition < b.source_partition;
  return a.source_offset < b.source_offset;
}

/** What tells copies of an event apart: when and from where each arrived. */
export type CopyLineage = Pick<LakeRow, 'ingest_time' | 'source_topic' | 'source_partition' | 'source_offset'>;

/** Event time, then event id: a total order over distinct events, so the same inputs give the same files. */
export function byTimeThenId(a: LakeRow, b: LakeRow): number {
  return a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
}

/** The rows of every input, each event once, ordered by event time then event id. */
export function mergeRows(inputs: Iterable<readonly LakeRow[]>): MergedRows {
  const byId = new Map<string, LakeRow>();
  let read = 0;
  for (const rows of inputs) {
    for (const row of rows) {
      read++;
      const kept = byId.get(row.event_id);
      if (!kept || arrivedBefore(row, kept)) byId.set(row.event_id, row);
    }
  }
  const rows = [...byId.values()].sort(byTimeThenId);
  return { rows, duplicatesDropped: read - rows.length };
}

const TIME_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'event_time');
const ID_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'event_id');

/** A run's place: its current frame (column arrays) and row in it. */
interface Cursor {
  frame: unknown[][];
  row: number;
  time: number;
  id: string;
  readonly frames: Iterator<unknown[][]>;
}

/**
 * Sorted runs (each in byTimeThenId order, no event in two), given as frames of column arrays in
 * LAKE_COLUMNS' order (readSpillColumns), merged into one sorted sequence, taken `count` rows at a
 * time as column arrays: what the file writer takes, so no row becomes an object on the way from
 * the runs to the files. Holds one frame per run.
 */
export function mergeSortedColumns(runs: readonly Iterator<unknown[][]>[]): { take(count: number): unknown[][] } {
  // A binary min-heap of each run's cursor.
  const heap: Cursor[] = [];
  const less = (a: Cursor, b: Cursor) => a.time < b.time || (a.time === b.time && a.id < b.id);
  /** Points the cursor at its next row, in the next non-empty frame if need be; false at the run's end. */
  const settle = (c: Cursor): boolean => {
    while (c.row >= (c.frame[0]?.length ?? 0)) {
      const next = c.frames.next();
      if (next.done) return false;
      c.frame = next.value;
      c.row = 0;
    }
    c.time = c.frame[TIME_COLUMN]![c.row] as number;
    c.id = c.frame[ID_COLUMN]![c.row] as string;
    return true;
  };
  for (const frames of runs) {
    const cursor: Cursor = { frame: [], row: 0, time: 0, id: '', frames };
    if (settle(cursor)) heap.push(cursor);
  }
  heapify(heap, less);
  return {
    take(count) {
      const out = LAKE_COLUMNS.map(() => new Array<unknown>(count));
      for (let k = 0; k < count; k++) {
        const top = heap[0];
        if (!top) throw new Error(`the sorted runs ended ${count - k} rows early`);
        for (let j = 0; j < out.length; j++) out[j]![k] = top.frame[j]![top.row];
        top.row++;
        if (settle(top)) siftDown(heap, 0, less);
        else popMin(heap, less);
      }
      return out;
    },
  };
}

const SESSION_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'session_id');

/**
 * The order of rows inside a row group: by session, then event time and id. A row group holds the
 * same rows whatever their order, so its event-time statistics, by which engines skip it outside a
 * range, are unchanged; sorted by session, the session and user ids a refresh reads compress to
 * about half (5.7 and 3.7 bytes an event sorted by time, 2.5 and 1.8 by session, on 300,000
 * simulator events; event times grow from 1.0 to 3.1: docs/benchmarks.md, "Folding the open hour").
 */
export function bySessionThenTime(a: LakeRow, b: LakeRow): number {
  return a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : byTimeThenId(a, b);
}

type Columns = readonly (readonly unknown[])[];

/** bySessionThenTime's order between row `i` of columns `a` and row `j` of columns `b` (column arrays in LAKE_COLUMNS' order). */
function sessionOrder(a: Columns, i: number, b: Columns, j: number): number {
  const sa = a[SESSION_COLUMN]![i] as string;
  const sb = b[SESSION_COLUMN]![j] as string;
  if (sa !== sb) return sa < sb ? -1 : 1;
  const ta = a[TIME_COLUMN]![i] as number;
  const tb = b[TIME_COLUMN]![j] as number;
  if (ta !== tb) return ta - tb;
  const ia = a[ID_COLUMN]![i] as string;
  const ib = b[ID_COLUMN]![j] as string;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** A row group's rows (column arrays in LAKE_COLUMNS' order) in bySessionThenTime's order. */
export function bySession(columns: Columns): unknown[][] {
  const order = Array.from(columns[SESSION_COLUMN]!, (_, i) => i).sort((a, b) => sessionOrder(columns, a, columns, b));
  return columns.map((values) => order.map((i) => values[i]));
}

/**
 * A row group of a part smaller than this joins the next one: a group for each minute a few late
 * events end their sessions in would cost its own dictionaries and footer entries for little pruning.
 */
const MIN_GROUP_ROWS = 10_000;

/**
 * A part's row groups (fold-open-hours.ts), one at a time, from runs of its rows (column arrays in
 * LAKE_COLUMNS' order, each in bySessionThenTime's order, no event in two: the row groups of the parts
 * a fold merges, and its new rows): the rows merged into session order, then cut by the minute of
 * their session's last event (a group under MIN_GROUP_ROWS joins the next), each group in session
 * order. An engine skips a group whose newest event time is before a range's start, so a range
 * starting inside a part of four minutes reads the groups of the sessions still going at its start,
 * not the whole part; and a session's rows stay in one group, so its ids are written once. The merge
 * is kept as each row's run and place, and one group is made at a time (memory: docs/benchmarks.md,
 * "Merged parts").
 */
export function* rowGroupsBySessionEnd(runs: readonly Columns[], minGroupRows = MIN_GROUP_ROWS): Generator<unknown[][]> {
  const lengths = runs.map((run) => run[0]?.length ?? 0);
  const total = lengths.reduce((a, b) => a + b, 0);
  // The merge, by a binary min-heap of the runs not yet done: for each row in session order, its run and its place in it.
  const runOf = new Uint32Array(total);
  const rowOf = new Uint32Array(total);
  const at = runs.map(() => 0);
  const less = (a: number, b: number) => sessionOrder(runs[a]!, at[a]!, runs[b]!, at[b]!) < 0;
  const heap = runs.map((_, r) => r).filter((r) => lengths[r]! > 0);
  heapify(heap, less);
  for (let k = 0; k < total; k++) {
    const next = heap[0]!;
    runOf[k] = next;
    rowOf[k] = at[next]!;
    at[next] = at[next]! + 1;
    if (at[next] === lengths[next]) popMin(heap, less);
    else siftDown(heap, 0, less);
  }
  const value = (column: number, k: number) => runs[runOf[k]!]![column]![rowOf[k]!];
  // Each row's group: the minute of its session's last event (a session's rows are in time order).
  const byMinute = new Map<number, number[]>();
  for (let start = 0; start < total; ) {
    let end = start + 1;
    while (end < total && value(SESSION_COLUMN, end) === value(SESSION_COLUMN, start)) end++;
    const minute = Math.floor((value(TIME_COLUMN, end - 1) as number) / 60_000);
    const rows = byMinute.get(minute) ?? [];
    for (let k = start; k < end; k++) rows.push(k);
    byMinute.set(minute, rows);
    start = end;
  }
  let group: number[] = [];
  const minutes = [...byMinute.keys()].sort((a, b) => a - b);
  for (const [i, minute] of minutes.entries()) {
    // Places in the merge are in session order: a group joined by a smaller one is sorted back into it.
    group = group.length === 0 ? byMinute.get(minute)! : [...group, ...byMinute.get(minute)!].sort((a, b) => a - b);
    if (group.length < minGroupRows && i < minutes.length - 1) continue;
    const rows = group;
    group = [];
    yield LAKE_COLUMNS.map((_, j) => rows.map((k) => value(j, k)));
  }
}

/** The row counts of the fewest files of at most maxRows rows each, as even as can be (what splitRows cuts). */
export function fileRowCounts(rows: number, maxRows: number): number[] {
  if (!(maxRows >= 1)) throw new Error(`maxRows must be at least 1, got ${maxRows}`);
  const files = Math.max(1, Math.ceil(rows / maxRows));
  const size = Math.ceil(rows / files);
  return Array.from({ length: files }, (_, i) => Math.max(0, Math.min(size, rows - i * size)));
}

/** The fewest consecutive slices of at most maxRows rows each: the files of one compacted hour. */
export function splitRows<T>(rows: readonly T[], maxRows: number): T[][] {
  let start = 0;
  return fileRowCounts(rows.length, maxRows).map((n) => rows.slice(start, (start += n)));
}
