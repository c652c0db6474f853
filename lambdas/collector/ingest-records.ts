/**
 * Where accepted events go: the stream the consumer reads (Kafka or Kinesis). A send
 * resolves only once the stream acknowledged every record, which is when the collector
 * answers 2xx.
 */

export interface IngestRecord {
  /** The session id: a session's events stay in one partition, in order. */
  readonly key: string;
  readonly value: Buffer;
}

export type IngestSend = (records: readonly IngestRecord[]) => Promise<void>;

/** The stream refused for now (Kinesis throughput exceeded): the sender should retry after a pause (429). */
export class IngestThrottled extends Error {}
