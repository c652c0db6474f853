/** Object keys in the lake: Hive-style hour partitions and names fixed by the source coordinates. */
import { HOUR_MS } from '../common/lake-timing.ts';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';

/** `year=YYYY/month=MM/day=DD/hour=HH` for an instant, in UTC, zero-padded. */
export function hourPartition(timeMs: number): string {
  const d = new Date(timeMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `year=${d.getUTCFullYear()}/month=${pad(d.getUTCMonth() + 1)}/day=${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}`;
}

/**
 * The same records from the same source always get the same name, so a retried
 * write overwrites instead of adding a copy.
 */
export function sourceFileName(topic: string, partition: number, firstOffset: string, lastOffset: string, extension: string): string {
  return `${topic}-p${partition}-o${firstOffset}-${lastOffset}.${extension}`;
}

export function eventObjectKey(eventTimeMs: number, topic: string, partition: number, firstOffset: string, lastOffset: string): string {
  return `${LAKE_PREFIXES.events}${hourPartition(eventTimeMs)}/${sourceFileName(topic, partition, firstOffset, lastOffset, 'parquet')}`;
}

/** At most this many event hours are listed one by one in a late file's name; more are named by their first and last. */
const LISTED_LATE_HOURS = 8;

/**
 * One file per batch and source partition for the rows of hours that had closed when they
 * arrived (lake-timing.ts), however many hours they span: a replay of old data writes one
 * object, not one per hour. The ingest time in the name makes every attempt's file its own,
 * so a retry never rewrites a file the compactor may have already folded in. The event hours of
 * its rows (hours since the epoch) are in the name too, so a reader knows which hours a file not
 * folded in yet can change without reading it (named-queries.ts): listed, `-h<a>.<b>.<c>`, when
 * there are at most LISTED_LATE_HOURS (a batch's late rows are mostly of an hour or two, with a
 * straggler from yesterday now and then), otherwise the first and last, `-h<first>-<last>`.
 */
export function lateObjectKey(ingestTimeMs: number, topic: string, partition: number, firstOffset: string, lastOffset: string, eventHours: readonly number[]): string {
  const hours = [...new Set(eventHours.map((h) => Math.floor(h / HOUR_MS)))].sort((a, b) => a - b);
  const named = hours.length <= LISTED_LATE_HOURS ? hours.join('.') : `${hours[0]}-${hours[hours.length - 1]}`;
  return `${LAKE_PREFIXES.late}${hourPartition(ingestTimeMs)}/${sourceFileName(topic, partition, firstOffset, `${lastOffset}-t${ingestTimeMs}-h${named}`, 'parquet')}`;
}

/** The ingest time in a late file's name, or undefined if the key is not one. */
export function lateKeyIngestTime(key: string): number | undefined {
  const match = /^late\/.+-t(\d+)(?:-h[\d.-]+)?\.parquet$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/**
 * The event hours a late file's name gives, as spans of hour starts (ms), first and last
 * included; undefined for a name without them (written before they were named).
 */
export function lateKeyEventHours(key: string): [number, number][] | undefined {
  const listed = /^late\/.+-t\d+-h(\d+(?:\.\d+)*)\.parquet$/.exec(key);
  if (listed) return listed[1]!.split('.').map((h) => [Number(h) * HOUR_MS, Number(h) * HOUR_MS]);
  const span = /^late\/.+-t\d+-h(\d+)-(\d+)\.parquet$/.exec(key);
  return span ? [[Number(span[1]) * HOUR_MS, Number(span[2]) * HOUR_MS]] : undefined;
}

/** The start (ms) of the hour a `year=/month=/day=/hour=` key lies in, or undefined outside that layout. */
export function hourOfKey(key: string): number | undefined {
  const match = /(?:^|\/)year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\//.exec(key);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4])) : undefined;
}

export function quarantineObjectKey(ingestTimeMs: number, topic: string, partition: number, firstOffset: string, lastOffset: string): string {
  return `${LAKE_PREFIXES.quarantine}${hourPartition(ingestTimeMs)}/${sourceFileName(topic, partition, firstOffset, lastOffset, 'jsonl')}`;
}

/** Per-partition write log of the consumer; outside `events/` so no query engine reads it. */
export function consumerStateKey(topic: string, partition: number): string {
  return `${LAKE_PREFIXES.consumerState}${topic}/p${partition}.json`;
}
