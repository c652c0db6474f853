/**
 * Sends events to the events topic (the simulator's and the collector's): keyed by session id (so a
 * session stays in one partition, in order), idempotent with acks from all
 * in-sync replicas, lz4-compressed. A send resolves only once the broker has
 * acknowledged every record in it, which is what callers count as "sent".
 */
import { compatibilityPartitioner, Producer, type SASLOptions } from '@platformatic/kafka';

export interface EventProducerOptions {
  readonly bootstrapServers: readonly string[];
  readonly topic: string;
  /** @default 'clickstream-simulator' */
  readonly clientId?: string;
  /** SASL authentication, e.g. OAUTHBEARER with an MSK IAM token provider. @default none */
  readonly sasl?: SASLOptions;
  /** Connect over TLS (MSK requires it for IAM auth). @default false */
  readonly tls?: boolean;
}

export interface OutgoingRecord {
  readonly key: string;
  readonly value: Buffer;
}

export class EventProducer {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly topic: string;

  constructor(options: EventProducerOptions) {
    this.topic = options.topic;
    this.producer = new Producer({
      clientId: options.clientId ?? 'clickstream-simulator',
      bootstrapBrokers: [...options.bootstrapServers],
      idempotent: true,
      acks: -1,
      // Node 20 has no built-in zstd; lz4 is Kafka's usual choice for JSON and cheap to decode.
      compression: 'lz4',
      // The same partition for a key as the Java client picks, so mixed producers agree.
      partitioner: compatibilityPartitioner,
      retries: 5,
      retryDelay: 250,
      timeout: 30_000,
      ...(options.sasl && { sasl: options.sasl }),
      ...(options.tls && { tls: {} }),
    });
  }

  /** Sends a batch; resolves when the broker acknowledged all of it, rejects if it did not. */
  async send(records: readonly OutgoingRecord[]): Promise<void> {
    await this.producer.send({
      messages: records.map((r) => ({ topic: this.topic, key: Buffer.from(r.key), value: r.value })),
    });
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
