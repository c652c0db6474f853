/**
 * The scheduled simulator Lambda: every minute, the previous minute's shopper
 * events go to the stack's ingest (Kafka/MSK or Kinesis). A thin adapter: what
 * to send is decided by scheduled-minute.ts, where to send it by the config.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { Admin, type SASLOptions } from '@platformatic/kafka';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { EventProducer, type OutgoingRecord } from './event-producer.ts';
import { kafkaSasl } from './kafka-auth.ts';
import { KinesisEventProducer } from './kinesis-producer.ts';
import { loadScheduledSimulatorConfig, type SimulatorIngest } from './scheduled-config.ts';
import { scheduledTimeMs, simulatedMinuteStart, simulateMinute } from './scheduled-minute.ts';

const config = loadScheduledSimulatorConfig(process.env);

interface Sender {
  send(records: readonly OutgoingRecord[]): Promise<void>;
}

// Created once per container and reused by later invocations. The SDK reads
// AWS_ENDPOINT_URL_KINESIS itself, so the same code runs against LocalStack.
let sender: Promise<Sender> | undefined;

/**
 * HTTP/1.1 for Kinesis. The client defaults to HTTP/2 for every call (SubscribeToShard
 * needs it; PutRecords does not), and under LocalStack 500-record PutRecords over HTTP/2
 * intermittently failed with ERR_HTTP2_SESSION_ERROR, never over HTTP/1.1. Kinesis
 * accepts both, so the simulator takes the one that works everywhere.
 */
const kinesisClient = () => new KinesisClient({ requestHandler: new NodeHttpHandler() });

async function createSender(ingest: SimulatorIngest): Promise<Sender> {
  if (ingest.kind === 'kinesis') return new KinesisEventProducer(kinesisClient(), ingest.streamName);
  const sasl = await kafkaSasl(ingest.auth);
  const connection: KafkaConnection = { bootstrapServers: ingest.bootstrapServers, ...(sasl && { sasl }), tls: ingest.tls };
  if (ingest.createTopicPartitions !== undefined) await ensureTopic(ingest.topic, ingest.createTopicPartitions, connection);
  return new EventProducer({ ...connection, topic: ingest.topic });
}

interface KafkaConnection {
  readonly bootstrapServers: readonly string[];
  readonly sasl?: SASLOptions;
  readonly tls: boolean;
}

async function ensureTopic(topic: string, partitions: number, connection: KafkaConnection): Promise<void> {
  const admin = new Admin({
    clientId: 'clickstream-simulator-admin',
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

export async function handler(event: unknown): Promise<{ sent: number; minuteStart: string }> {
  const minuteStart = simulatedMinuteStart(scheduledTimeMs(event, Date.now()));
  const records = simulateMinute(minuteStart, config.eventsPerMinute);
  sender ??= createSender(config.ingest);
  try {
    await (await sender).send(records);
  } catch (error) {
    sender = undefined; // a broken connection is rebuilt on the next invocation
    throw error;
  }
  const result = { sent: records.length, minuteStart: new Date(minuteStart).toISOString() };
  console.log(JSON.stringify({ level: 'INFO', message: 'minute sent', ...result }));
  return result;
}
