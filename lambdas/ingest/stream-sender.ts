/**
 * The sender for the stack's stream. A stack has one ingest, so each client is imported
 * only on its own path: the Kafka client (with its option validator and wasm) is most of
 * a bundle and a Kinesis deployment never loads it, nor a Kafka one the Kinesis SDK client.
 */
import type { OutgoingRecord } from '../common/event-producer.ts';
import type { StreamIngest } from './ingest-config.ts';

export interface StreamSender {
  /** Resolves once the stream acknowledged every record. */
  send(records: readonly OutgoingRecord[]): Promise<void>;
}

export async function createStreamSender(ingest: StreamIngest, clientId: string): Promise<StreamSender> {
  if (ingest.kind === 'kinesis') return (await import('./kinesis-producer.ts')).createKinesisSender(ingest.streamName);
  return (await import('./kafka-sender.ts')).createKafkaSender(ingest, clientId);
}
