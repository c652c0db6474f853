/** One record off the stream, whatever the source: the shape the consumer core works on. */
export interface SourceRecord {
  /** Kafka topic or Kinesis stream name. */
  readonly topic: string;
  /** Kafka partition or Kinesis shard number. */
  readonly partition: number;
  /** Kafka offset or Kinesis sequence number, in decimal (Kinesis numbers exceed 64 bits). */
  readonly offset: string;
  /** The payload; null for a Kafka record without a value (a tombstone). */
  readonly value: Buffer | null;
}

/** Compares two decimal offsets numerically. */
export function compareOffsets(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
