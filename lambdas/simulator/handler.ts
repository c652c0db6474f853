/**
 * The scheduled simulator Lambda: every minute, the previous minute's shopper
 * events go to the stack's ingest (Kafka/MSK or Kinesis). A thin adapter: what
 * to send is decided by scheduled-minute.ts, where to send it by the config.
 */
import { createStreamSender, type StreamSender } from '../ingest/stream-sender.ts';
import { loadScheduledSimulatorConfig } from './scheduled-config.ts';
import { scheduledTimeMs, simulatedMinuteStart, simulateMinute } from './scheduled-minute.ts';

const config = loadScheduledSimulatorConfig(process.env);

// Created once per container and reused by later invocations.
let sender: Promise<StreamSender> | undefined;

export async function handler(event: unknown): Promise<{ sent: number; minuteStart: string }> {
  const minuteStart = simulatedMinuteStart(scheduledTimeMs(event, Date.now()));
  const records = simulateMinute(minuteStart, config.eventsPerMinute);
  sender ??= createStreamSender(config.ingest, 'clickstream-simulator');
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
