/**
 * Sends simulator records to a Kinesis data stream with PutRecords, partition
 * key = session id (so a session stays on one shard, in order), retrying only
 * the entries Kinesis reports as failed (throttling is per shard).
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { OutgoingRecord } from '../common/event-producer.ts';
import { StreamThrottled } from './stream-throttled.ts';

/** PutRecords limits: 500 entries and 5 MiB (data plus partition keys) per request. */
export const PUT_RECORDS_MAX_ENTRIES = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;

export function putRecordsEntries(records: readonly OutgoingRecord[]): PutRecordsRequestEntry[] {
  return records.map((r) => ({ PartitionKey: r.key, Data: r.value }));
}

const entryBytes = (e: PutRecordsRequestEntry) => (e.Data?.byteLength ?? 0) + Buffer.byteLength(e.PartitionKey ?? '');

/** Splits entries into requests within both PutRecords limits, keeping their order. */
export function putRecordsBatches(entries: readonly PutRecordsRequestEntry[]): PutRecordsRequestEntry[][] {
  const batches: PutRecordsRequestEntry[][] = [];
  let current: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (current.length === PUT_RECORDS_MAX_ENTRIES || (current.length > 0 && bytes + size > PUT_RECORDS_MAX_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The entries of a request whose results carry an error code, in request order. */
export function failedEntries(sent: readonly PutRecordsRequestEntry[], results: readonly PutRecordsResultEntry[]): PutRecordsRequestEntry[] {
  return sent.filter((_, i) => results[i]?.ErrorCode !== undefined || results[i] === undefined);
}

export class KinesisEventProducer {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    private readonly maxAttempts = 5,
  ) {}

  async send(records: readonly OutgoingRecord[]): Promise<void> {
    for (const batch of putRecordsBatches(putRecordsEntries(records))) {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > this.maxAttempts) {
          throw new StreamThrottled(`Kinesis refused ${pending.length} records after ${this.maxAttempts} attempts (stream ${this.streamName}): add shards or lower the event rate`);
        }
        const response = await this.client.send(new PutRecordsCommand({ StreamName: this.streamName, Records: pending }));
        pending = response.FailedRecordCount ? failedEntries(pending, response.Records ?? []) : [];
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}

/**
 * A producing Lambda's Kinesis sender. The SDK reads AWS_ENDPOINT_URL_KINESIS itself,
 * so the same code runs against LocalStack. HTTP/1.1: the client defaults to HTTP/2 for
 * every call (SubscribeToShard needs it; PutRecords does not), and under LocalStack
 * 500-record PutRecords over HTTP/2 intermittently failed with ERR_HTTP2_SESSION_ERROR,
 * never over HTTP/1.1. Kinesis accepts both, so the senders take the one that works everywhere.
 */
export function createKinesisSender(streamName: string): KinesisEventProducer {
  return new KinesisEventProducer(new KinesisClient({ requestHandler: new NodeHttpHandler() }), streamName);
}
