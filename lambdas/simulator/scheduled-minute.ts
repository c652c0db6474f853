/**
 * What one scheduled run sends: the events of the minute that just ended,
 * drawn from a simulator seeded by that minute, so a retried invocation sends
 * the same events (same event_id values, which the lake de-duplicates).
 */
import { ShopperSimulator, type SimulatedRecord } from './simulator.ts';

const MINUTE_MS = 60_000;

/** The start of the minute before the scheduled time. */
export function simulatedMinuteStart(scheduledTimeMs: number): number {
  return Math.floor(scheduledTimeMs / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
}

/** Exactly `count` records with event times in the minute starting at `minuteStartMs`. */
export function simulateMinute(minuteStartMs: number, count: number): SimulatedRecord[] {
  const simulator = new ShopperSimulator({
    // The minute number fits 32 bits for millennia; xor keeps neighbouring seeds apart.
    seed: (minuteStartMs / MINUTE_MS) ^ 0x5ca1ab1e,
    startTimeMs: minuteStartMs,
    eventsPerSecond: count / 60,
    // A steady rate: the configured number per minute is what the user asked for.
    dailyCurve: false,
    // Each run starts a fresh simulator; warm sessions avoid a ramp at every minute.
    warmStart: true,
  });
  return Array.from({ length: count }, () => simulator.nextRecord());
}

/** The scheduled time of an EventBridge event (`time`), or now when absent or malformed. */
export function scheduledTimeMs(event: unknown, nowMs: number): number {
  const time = typeof event === 'object' && event !== null ? (event as { time?: unknown }).time : undefined;
  const parsed = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : nowMs;
}
