/** Object keys in the lake: Hive-style hour partitions and names fixed by the source coordinates. */
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

export function quarantineObjectKey(ingestTimeMs: number, topic: string, partition: number, firstOffset: string, lastOffset: string): string {
  return `${LAKE_PREFIXES.quarantine}${hourPartition(ingestTimeMs)}/${sourceFileName(topic, partition, firstOffset, lastOffset, 'jsonl')}`;
}

/** Per-partition write log of the consumer; outside `events/` so no query engine reads it. */
export function consumerStateKey(topic: string, partition: number): string {
  return `${LAKE_PREFIXES.consumerState}${topic}/p${partition}.json`;
}
