/**
 * Many requests' events, one send at a time. Kafka's idempotent producer cannot have
 * two sends in flight (the broker would see its sequence numbers out of order), and one
 * send per HTTP request would cap the collector at one round trip per request. So the
 * events of all requests that arrive while a send is on the wire go together in the
 * next one (group commit), and each request learns the outcome of the send that carried
 * its events.
 */
import type { OutgoingRecord } from '../common/event-producer.ts';
import type { IngestSend } from './collect-request.ts';

interface Waiting {
  readonly records: readonly OutgoingRecord[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** At most this many records per send (Kafka's default request limit is 1 MB; events are under 2 KiB). */
const MAX_RECORDS_PER_SEND = 400;

export function serialBatches(send: IngestSend, maxRecords = MAX_RECORDS_PER_SEND): IngestSend {
  const queue: Waiting[] = [];
  let sending = false;

  async function drain(): Promise<void> {
    sending = true;
    while (queue.length > 0) {
      const batch: Waiting[] = [];
      let count = 0;
      // A request's events are never split: it gets one answer for all of them.
      while (queue.length > 0 && (batch.length === 0 || count + queue[0]!.records.length <= maxRecords)) {
        const next = queue.shift()!;
        batch.push(next);
        count += next.records.length;
      }
      try {
        await send(batch.flatMap((w) => w.records));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    sending = false;
  }

  return (records) => {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      queue.push({ records, resolve, reject });
      if (!sending) void drain();
    });
  };
}
