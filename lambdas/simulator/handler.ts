/**
 * The scheduled simulator Lambda: every minute, the previous minute's shopper
 * events go to the stack's ingest (Kafka/MSK or Kinesis). A thin adapter: what
 * to send is decided by scheduled-minute.ts, where to send it by the config.
 */
import type { OutgoingRecord } from '../common/event-producer.ts';
import { loadScheduledSimulatorConfig, type SimulatorIngest } from './scheduled-config.ts';
import { scheduledTimeMs, simulatedMinuteStart, simulateMinute } from './scheduled-minute.ts';

const config = loadScheduledSimulatorConfig(process.env);

interface Sender {
  send(records: readonly OutgoingRecord[]): Promise<void>;
}

// Created once per container and reused by later invocations.
let sender: Promise<Sender> | undefined;

/**
 * A stack has one ingest, so each client is imported only on its own path: the Kafka
 * client (with its option validator and wasm) is most of the bundle and a Kinesis
 * deployment never loads it, nor a Kafka one the Kinesis SDK client.
 */
async function createSender(ingest: SimulatorIngest): Promise<Sender> {
  if (ingest.kind === 'kinesis') return (await import('./kinesis-producer.ts')).createKinesisSender(ingest.streamName);
  return (await import('./kafka-sender.ts')).createKafkaSender(ingest);
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
