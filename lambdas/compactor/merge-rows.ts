/**
 * The compactor's pure core: one row per event_id, sorted by event time so that
 * engines skip row groups outside a query's range, cut into files of a bounded
 * size. Copies differ only in lineage; the one kept is the first to arrive (the
 * earliest ingest_time), as every reader's de-duplication keeps, so the
 * freshness panel's newest ingest time is the same before and after compaction.
 */
import type { LakeRow } from '../consumer/plan-batch.ts';

export interface MergedRows {
  readonly rows: LakeRow[];
  readonly duplicatesDropped: number;
}

/** The rows of every input, each event once, ordered by event time then event id (a total order: the same inputs give the same files). */
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
  const rows = [...byId.values()].sort((a, b) => a.event_time - b.event_time || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0));
  return { rows, duplicatesDropped: read - rows.length };
}

/** The fewest consecutive slices of at most maxRows rows each: the files of one compacted hour. */
export function splitRows<T>(rows: readonly T[], maxRows: number): T[][] {
  if (!(maxRows >= 1)) throw new Error(`maxRows must be at least 1, got ${maxRows}`);
  const files = Math.max(1, Math.ceil(rows.length / maxRows));
  const size = Math.ceil(rows.length / files);
  return Array.from({ length: files }, (_, i) => rows.slice(i * size, (i + 1) * size));
}
