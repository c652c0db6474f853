/**
 * A producing Lambda's Kafka (MSK or any Kafka) sender: the SASL settings, the topic
 * created when asked, and an idempotent producer. stream-sender.ts imports this module
 * only when the stack's ingest is Kafka, so a Kinesis deployment never loads the Kafka client.
 */
import { Admin, type SASLOptions } from '@platformatic/kafka';
import { EventProducer } from '../common/event-producer.ts';
import { kafkaSasl } from './kafka-auth.ts';
import type { StreamIngest } from './ingest-config.ts';

interface KafkaConnection {
  readonly bootstrapServers: readonly string[];
  readonly sasl?: SASLOptions;
  readonly tls: boolean;
}

export async function createKafkaSender(ingest: Extract<StreamIngest, { kind: 'kafka' }>, clientId: string): Promise<EventProducer> {
  const sasl = await kafkaSasl(ingest.auth);
  const connection: KafkaConnection = { bootstrapServers: ingest.bootstrapServers, ...(sasl && { sasl }), tls: ingest.tls };
  if (ingest.createTopicPartitions !== undefined) await ensureTopic(ingest.topic, ingest.createTopicPartitions, connection, clientId);
  return new EventProducer({ ...connection, topic: ingest.topic, clientId });
}

async function ensureTopic(topic: string, partitions: number, connection: KafkaConnection, clientId: string): Promise<void> {
  const admin = new Admin({
    clientId: `${clientId}-admin`,
    bootstrapBrokers: [...connection.bootstrapServers],
    ...(connection.sasl && { sasl: connection.sasl }),
    ...(connection.tls && { tls: {} }),
  });
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      // replicas -1: the cluster's default (MSK Serverless fixes it at 3).
      await admin.createTopics({ topics: [topic], partitions, replicas: -1 });
      console.log(JSON.stringify({ level: 'INFO', message: 'topic created', topic, partitions }));
    }
  } finally {
    await admin.close();
  }
}
