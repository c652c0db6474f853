/**
 * A late file's rows by event hour, read from its Parquet a row group at a time as column
 * arrays: the compactor holds a late file's bytes, not its rows as objects (which took about 70
 * times the file's size: docs/benchmarks.md), and reads it again for each hour it folds it into.
 */
import { hourStartOf } from '../common/compaction-manifest.ts';
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { hourPartition, lateKeyEventHours } from '../consumer/lake-keys.ts';
import { readLakeColumn, readLakeColumnGroups } from './parquet-reader.ts';
import type { Columns } from './slice-work.ts';

const HOUR_MS = 3_600_000;
/** The longest span of hours a late file's name is expanded to (about six weeks). */
const MAX_NAMED_SPAN_MS = 1_000 * HOUR_MS;
const TIME_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'event_time');

/** The hours (`year=…/hour=HH`) a lake file has rows in, from its event times alone. */
export async function hoursOfFile(body: Uint8Array): Promise<Set<string>> {
  const starts = new Set<number>();
  for (const time of await readLakeColumn(body, 'event_time')) starts.add(Math.floor((time as number) / HOUR_MS) * HOUR_MS);
  return new Set([...starts].map(hourPartition));
}

/**
 * The hours a late file's name says it may have rows in (lateKeyEventHours: exact when they are
 * listed, every hour of the span otherwise), or undefined for a name written before they were named
 * or a span too long to list.
 */
export function hoursOfName(key: string): Set<string> | undefined {
  const spans = lateKeyEventHours(key);
  // A span of years (a straggler from long ago) is not worth listing: the file is read instead.
  if (!spans || spans.some(([first, last]) => last - first > MAX_NAMED_SPAN_MS)) return undefined;
  const hours = new Set<string>();
  for (const [first, last] of spans) for (let start = first; start <= last; start += HOUR_MS) hours.add(hourPartition(start));
  return hours;
}

/** A lake file's rows of one hour, a row group at a time as column arrays in LAKE_COLUMNS' order (groups without any left out). */
export async function* rowsOfHour(body: Uint8Array, hour: string): AsyncGenerator<Columns> {
  const start = hourStartOf(hour);
  for await (const columns of readLakeColumnGroups(body)) {
    const times = columns[TIME_COLUMN]!;
    const keep: number[] = [];
    for (let i = 0; i < times.length; i++) if ((times[i] as number) >= start && (times[i] as number) < start + HOUR_MS) keep.push(i);
    if (keep.length === times.length) yield columns;
    else if (keep.length > 0) yield columns.map((column) => keep.map((i) => column[i]));
  }
}
