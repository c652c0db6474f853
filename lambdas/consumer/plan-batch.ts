/**
 * The consumer's pure core: decode and validate each record, drop repeats of an
 * event id within the batch, group the valid rows by source partition and event
 * hour (rows of hours already closed go together into one late file), and set
 * the rest aside for quarantine with the reason and where they came from.
 */
import { decodeEvent } from '../common/decode-event.ts';
import type { RejectionCode } from '../common/event-enums.ts';
import type { ClickstreamEvent } from '../common/event-schema.ts';
import { DEFAULT_LAKE_TIMING, HOUR_MS, isLate, type LakeTiming } from '../common/lake-timing.ts';
import { eventObjectKey, lateObjectKey, quarantineObjectKey } from './lake-keys.ts';
import { compareOffsets, type SourceRecord } from './source-record.ts';

export interface LakeRow extends ClickstreamEvent {
  readonly source_topic: string;
  readonly source_partition: number;
  readonly source_offset: string;
  readonly ingest_time: number;
}

export interface QuarantinedRecord {
  readonly code: RejectionCode;
  readonly reason: string;
  readonly source_topic: string;
  readonly source_partition: number;
  readonly source_offset: string;
  readonly ingest_time: number;
  /** The payload as received: text when it is valid UTF-8, otherwise base64. */
  readonly raw: string | null;
  readonly raw_encoding: 'utf8' | 'base64';
}

export interface PlannedObject<T> {
  readonly key: string;
  readonly rows: readonly T[];
}

/** Everything one source partition's slice of a batch turns into. */
export interface PartitionPlan {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  /** Parquet files: one per open event hour, and one late file for the rows of closed hours. */
  readonly events: readonly PlannedObject<LakeRow>[];
  readonly quarantine?: PlannedObject<QuarantinedRecord>;
  readonly stats: BatchStats;
}

export interface BatchStats {
  readonly records: number;
  readonly valid: number;
  readonly quarantined: number;
  /** Events whose id already appeared earlier in the same batch. */
  readonly duplicatesDropped: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function planBatch(records: readonly SourceRecord[], ingestTimeMs: number, timing: LakeTiming = DEFAULT_LAKE_TIMING): PartitionPlan[] {
  const bySource = new Map<string, SourceRecord[]>();
  for (const record of records) {
    const id = `${record.topic}\u0000${record.partition}`;
    let list = bySource.get(id);
    if (!list) bySource.set(id, (list = []));
    list.push(record);
  }
  return [...bySource.values()].map((list) => planPartition(list, ingestTimeMs, timing));
}

function planPartition(records: readonly SourceRecord[], ingestTimeMs: number, timing: LakeTiming): PartitionPlan {
  const { topic, partition } = records[0]!;
  const byHour = new Map<number, LakeRow[]>();
  const quarantined: QuarantinedRecord[] = [];
  const seen = new Set<string>();
  let duplicatesDropped = 0;

  for (const record of records) {
    const result = record.value === null ? ({ ok: false, code: 'no_value', reason: 'record has no value' } as const) : decodeEvent(record.value, ingestTimeMs);
    if (!result.ok) {
      quarantined.push(quarantineEntry(record, result.code, result.reason, ingestTimeMs));
      continue;
    }
    if (seen.has(result.event.event_id)) {
      duplicatesDropped++;
      continue;
    }
    seen.add(result.event.event_id);
    const hour = Math.floor(result.event.event_time / HOUR_MS);
    let rows = byHour.get(hour);
    if (!rows) byHour.set(hour, (rows = []));
    // The event was parsed just now and nothing else holds it: adding the lineage in place
    // saves a copy of every row, the largest cost in this loop.
    const row = result.event as Mutable<LakeRow>;
    row.source_topic = topic;
    row.source_partition = partition;
    row.source_offset = record.offset;
    row.ingest_time = ingestTimeMs;
    rows.push(row);
  }

  const late: LakeRow[] = [];
  const lateHours: number[] = [];
  const events: PlannedObject<LakeRow>[] = [];
  for (const [hour, rows] of [...byHour.entries()].sort(([a], [b]) => a - b)) {
    if (isLate(hour * HOUR_MS, ingestTimeMs, timing)) {
      late.push(...rows);
      lateHours.push(hour * HOUR_MS);
    } else events.push({ key: eventObjectKey(hour * HOUR_MS, topic, partition, ...offsetRange(rows.map((r) => r.source_offset))), rows });
  }
  if (late.length > 0) {
    const key = lateObjectKey(ingestTimeMs, topic, partition, ...offsetRange(late.map((r) => r.source_offset)), lateHours);
    events.push({ key, rows: late });
  }
  const valid = events.reduce((n, o) => n + o.rows.length, 0);
  const [firstOffset, lastOffset] = offsetRange(records.map((r) => r.offset));
  return {
    topic,
    partition,
    firstOffset,
    lastOffset,
    events,
    ...(quarantined.length > 0 && {
      quarantine: {
        key: quarantineObjectKey(ingestTimeMs, topic, partition, ...offsetRange(quarantined.map((q) => q.source_offset))),
        rows: quarantined,
      },
    }),
    stats: { records: records.length, valid, quarantined: quarantined.length, duplicatesDropped },
  };
}

function quarantineEntry(record: SourceRecord, code: RejectionCode, reason: string, ingestTimeMs: number): QuarantinedRecord {
  let raw: string | null = null;
  let encoding: 'utf8' | 'base64' = 'utf8';
  if (record.value !== null) {
    try {
      raw = utf8.decode(record.value);
    } catch {
      raw = record.value.toString('base64');
      encoding = 'base64';
    }
  }
  return {
    code,
    reason,
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: record.offset,
    ingest_time: ingestTimeMs,
    raw,
    raw_encoding: encoding,
  };
}

function offsetRange(offsets: readonly string[]): [string, string] {
  let min = offsets[0]!;
  let max = min;
  for (const o of offsets) {
    if (compareOffsets(o, min) < 0) min = o;
    if (compareOffsets(o, max) > 0) max = o;
  }
  return [min, max];
}
