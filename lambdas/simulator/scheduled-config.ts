/**
 * The scheduled simulator's configuration: one typed object read from
 * `CLICKSTREAM_*` variables, which the CDK stack sets. Pure, so every bad value
 * is tested without AWS.
 */
import { loadStreamIngest, requiredVariable, type Env, type StreamIngest } from '../ingest/ingest-config.ts';

export interface ScheduledSimulatorConfig {
  readonly eventsPerMinute: number;
  readonly ingest: StreamIngest;
}

/** A Lambda invocation has 15 minutes at most; a minute's events must be sent well inside one. */
export const MAX_EVENTS_PER_MINUTE = 600_000;

export function loadScheduledSimulatorConfig(env: Env): ScheduledSimulatorConfig {
  const eventsPerMinute = Number(required(env, 'CLICKSTREAM_EVENTS_PER_MINUTE'));
  if (!Number.isInteger(eventsPerMinute) || eventsPerMinute < 1 || eventsPerMinute > MAX_EVENTS_PER_MINUTE) {
    throw new Error(`CLICKSTREAM_EVENTS_PER_MINUTE must be a whole number from 1 to ${MAX_EVENTS_PER_MINUTE}, got "${env.CLICKSTREAM_EVENTS_PER_MINUTE}"`);
  }
  return { eventsPerMinute, ingest: loadStreamIngest(env, 'the scheduled simulator') };
}

function required(env: Env, key: string): string {
  return requiredVariable(env, key, 'the scheduled simulator');
}
