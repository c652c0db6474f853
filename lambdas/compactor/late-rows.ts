/**
 * A late file's rows by event hour, read from its Parquet a row group at a time as column
 * arrays: the compactor holds a late file's bytes, not its rows as objects (which took about 45
 * times the file's size), and reads it again for each hour it folds it into.
 */
import { hourStartOf } from '../common/compaction-manifest.ts';
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { hourPartition } from '../consumer/lake-keys.ts';
import { readLakeColumnGroups } from './parquet-reader.ts';
import type { Columns } from './slice-work.ts';

const HOUR_MS = 3_600_000;
const TIME_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'event_time');

/** The hours (`year=…/hour=HH`) a lake file has rows in. */
export async function hoursOfFile(body: Uint8Array): Promise<Set<string>> {
  const starts = new Set<number>();
  for await (const columns of readLakeColumnGroups(body)) for (const time of columns[TIME_COLUMN]!) starts.add(Math.floor((time as number) / HOUR_MS) * HOUR_MS);
  return new Set([...starts].map(hourPartition));
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
