/**
 * The compactor's pure core: one row per event_id, sorted by event time so that
 * engines skip row groups outside a query's range, cut into files of a bounded
 * size. Copies differ only in lineage; the one kept is the first to arrive (the
 * earliest ingest_time), as every reader's de-duplication keeps, so the
 * freshness panel's newest ingest time is the same before and after compaction.
 * An hour too big for memory is merged a slice at a time (slice-hour.ts), each
 * slice's rows sorted alone, and the sorted slices merged into the hour's order
 * (mergeSorted): the same rows in the same order as one slice would give.
 */
import type { LakeRow } from '../consumer/plan-batch.ts';

export interface MergedRows {
  readonly rows: LakeRow[];
  readonly duplicatesDropped: number;
}

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
      if (!kept || row.ingest_time < kept.ingest_time) byId.set(row.event_id, row);
    }
  }
  const rows = [...byId.values()].sort(byTimeThenId);
  return { rows, duplicatesDropped: read - rows.length };
}

/** Sorted runs (each in byTimeThenId order, no event in two) merged into one sorted sequence, holding one row per run. */
export function* mergeSorted(runs: readonly Iterator<LakeRow>[]): Generator<LakeRow> {
  // A binary min-heap of each run's next row.
  const heap: { row: LakeRow; run: Iterator<LakeRow> }[] = [];
  const less = (i: number, j: number) => byTimeThenId(heap[i]!.row, heap[j]!.row) < 0;
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!]);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (const run of runs) {
    const next = run.next();
    if (!next.done) heap.push({ row: next.value, run });
  }
  for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) down(i);
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.row;
    const next = top.run.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length === 0) return;
      heap[0] = last;
    } else {
      top.row = next.value;
    }
    down(0);
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
