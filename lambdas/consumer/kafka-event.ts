/**
 * The event Lambda delivers for Amazon MSK and self-managed Kafka (the local
 * runner builds the same): records grouped under "topic-partition" keys, key and
 * value base64-encoded (either may be absent or null), headers as arrays of byte values.
 * The shapes are @types/aws-lambda's (types only: nothing is bundled).
 */
import type { MSKEvent, MSKRecord, SelfManagedKafkaEvent } from 'aws-lambda';
import type { SourceRecord } from './source-record.ts';

/**
 * @types/aws-lambda types key and value as strings, but a record with no key, or a
 * tombstone with no value, arrives with them null or absent: widened so the code handles it.
 */
export type KafkaEventRecord = Omit<MSKRecord, 'key' | 'value'> & { key?: string | null; value?: string | null };

type WithRecords<E> = Omit<E, 'records'> & { records: Record<string, KafkaEventRecord[]> };
export type KafkaEvent = WithRecords<MSKEvent> | WithRecords<SelfManagedKafkaEvent>;

export function isKafkaEvent(event: unknown): event is KafkaEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Partial<KafkaEvent>;
  return (e.eventSource === 'aws:kafka' || e.eventSource === 'SelfManagedKafka') && typeof e.records === 'object' && e.records !== null;
}

/** Flattens the event, partition by partition, each in offset order as delivered. */
export function kafkaSourceRecords(event: KafkaEvent): SourceRecord[] {
  const records: SourceRecord[] = [];
  for (const [group, list] of Object.entries(event.records)) {
    if (!Array.isArray(list)) throw new TypeError(`Kafka event group "${group}" is not a list of records`);
    for (const r of list) {
      if (typeof r.topic !== 'string' || !Number.isInteger(r.partition) || !Number.isInteger(r.offset)) {
        throw new TypeError(`Kafka event group "${group}" has a record without topic, partition and offset`);
      }
      records.push({
        topic: r.topic,
        partition: r.partition,
        offset: String(r.offset),
        value: typeof r.value === 'string' ? Buffer.from(r.value, 'base64') : null,
      });
    }
  }
  return records;
}
