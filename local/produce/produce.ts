/**
 * Drives the simulator into the topic: paces it to a rate (or as fast as the
 * broker acknowledges), batches records, keeps a few batches in flight, and
 * counts a record as sent only once the broker acknowledged it. A batch the
 * broker did not acknowledge is kept and sent again, with bounded backoff, for
 * as long as the broker is away; meanwhile no new batch goes out, so the
 * simulator waits (memory stays at the batches in flight plus the one being
 * filled) and no event is lost at the source.
 */
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { EventProducer } from '../../lambdas/common/event-producer.ts';
import { backoffMs } from '../common/backoff.ts';
import { isPermanentSendError } from './send-errors.ts';
import { ShopperSimulator, type InjectionRates, type SimulatedRecord } from '../../lambdas/simulator/simulator.ts';

/** The simulated event rate used when producing flat out, so event times stay near the wall clock. */
const MAX_MODE_SIMULATED_RATE = 50_000;

/**
 * Flat out, sessions may start ahead of the wall clock by at most this much; beyond it the producer
 * waits. A session's events reach up to its length past its start (at most 6.9 minutes in 1.37 million
 * simulated sessions), and consumers reject events more than 15 minutes in the future.
 */
export const MAX_LEAD_MS = 2 * 60_000;

export interface ProduceOptions {
  readonly bootstrapServers: readonly string[];
  readonly topic: string;
  /** Events per second (the daily mean when the curve is on), or 'max' for as fast as the broker takes them. */
  readonly rate: number | 'max';
  /** Stop after this many records. @default no limit */
  readonly count?: number;
  /** Stop after this many seconds. @default no limit */
  readonly durationSeconds?: number;
  readonly seed: number;
  /** @default true for a numeric rate, false for 'max' */
  readonly dailyCurve?: boolean;
  readonly inject?: InjectionRates;
  /** @default 1000 */
  readonly batchSize?: number;
  /**
   * Batches awaiting acknowledgement. The idempotent producer of @platformatic/kafka
   * cannot pipeline requests (the broker sees out-of-order sequence numbers), so 1:
   * the next batch is generated while the previous one is on the wire. @default 1
   */
  readonly maxInFlight?: number;
  /** Stops producing; records already generated are still sent and acknowledged. */
  readonly signal?: AbortSignal;
  /** Called about once a second. */
  readonly onProgress?: (progress: ProduceProgress) => void;
  /** Called with each batch the broker acknowledged, for tests that keep the ground truth. */
  readonly onAcknowledged?: (records: readonly SimulatedRecord[]) => void;
}

export interface ProduceProgress {
  readonly sent: number;
  readonly errors: number;
  /** Records held for a retry because the broker did not acknowledge them (0 when all is well). */
  readonly retrying: number;
  readonly elapsedSeconds: number;
  /** Acknowledged records per second over the last interval. */
  readonly eventsPerSecond: number;
  readonly lastError?: string;
}

export interface ProduceSummary {
  readonly sent: number;
  /** Records the broker refused for good (too large, not authorised); a broker outage is waited out, not counted. */
  readonly errors: number;
  /** Batches sent again after the broker did not acknowledge them. */
  readonly retries: number;
  readonly elapsedSeconds: number;
  readonly eventsPerSecond: number;
  readonly lastError?: string;
}

/**
 * Whether the simulator's next record must wait for the wall clock: paced, until its time comes;
 * flat out, while sessions start more than MAX_LEAD_MS ahead of it. Flat out, sessions are whole, so
 * the next event can be a long session's step minutes beyond the sessions' starts: measured by it, the
 * producer waited for those sessions and sent about 5,000 events/s instead of 100,000.
 */
export function mustWait(simulator: Pick<ShopperSimulator, 'peekTimeMs' | 'peekArrivalMs'>, nowMs: number, paced: boolean): boolean {
  return paced ? simulator.peekTimeMs() > nowMs : simulator.peekArrivalMs() > nowMs + MAX_LEAD_MS;
}

export async function produce(options: ProduceOptions): Promise<ProduceSummary> {
  const paced = options.rate !== 'max';
  const startTimeMs = Date.now();
  const simulator = new ShopperSimulator({
    seed: options.seed,
    startTimeMs,
    eventsPerSecond: options.rate === 'max' ? MAX_MODE_SIMULATED_RATE : options.rate,
    dailyCurve: options.dailyCurve ?? paced,
    // Paced: start with the sessions a running shop has open, so the rate holds from the first second.
    warmStart: paced,
    // Flat out, a run is usually cut by a count long before tens of thousands of interleaved sessions
    // finish; whole sessions give any prefix a shop's funnel (mustWait measures the lead by their starts).
    wholeSessions: !paced,
    ...(options.inject && { inject: options.inject }),
  });
  // The warm-up walk takes real time at high rates (a quarter of a second per 1,000 events/s): do it
  // before the clock starts, and move the simulated schedule by that long, so the rate holds from the
  // first second and no event goes out late.
  if (paced) simulator.delay(Date.now() - startTimeMs);
  const connect = () => new EventProducer({ bootstrapServers: options.bootstrapServers, topic: options.topic });
  let producer = connect();
  const batchSize = options.batchSize ?? 1000;
  const maxInFlight = options.maxInFlight ?? 1;
  const started = performance.now();
  const deadline = options.durationSeconds === undefined ? Infinity : started + options.durationSeconds * 1000;
  const limit = options.count ?? Infinity;

  let generated = 0;
  let sent = 0;
  let errors = 0;
  let retries = 0;
  let retrying = 0;
  let lastError: string | undefined;
  const inFlight = new Set<Promise<void>>();

  const elapsed = () => (performance.now() - started) / 1000;
  let lastReport = { at: performance.now(), sent: 0 };
  const report = () => {
    const now = performance.now();
    const rate = ((sent - lastReport.sent) * 1000) / Math.max(1, now - lastReport.at);
    lastReport = { at: now, sent };
    options.onProgress?.({ sent, errors, retrying, elapsedSeconds: elapsed(), eventsPerSecond: rate, ...(lastError && { lastError }) });
  };
  const progressTimer = setInterval(report, 1000);

  /** Sends a batch until the broker acknowledges it; only an error no retry can fix gives it up. */
  const sendUntilAcknowledged = async (batch: SimulatedRecord[]) => {
    for (let attempt = 1; ; attempt++) {
      const using = producer;
      try {
        await using.send(batch);
        sent += batch.length;
        options.onAcknowledged?.(batch);
        if (attempt > 1) retrying -= batch.length;
        return;
      } catch (error) {
        lastError = (error instanceof Error ? error.message : String(error)).split('\n')[0];
        if (isPermanentSendError(error)) {
          errors += batch.length;
          if (attempt > 1) retrying -= batch.length;
          return;
        }
        if (attempt === 1) retrying += batch.length;
        retries++;
        await sleep(backoffMs(attempt, 250, 5_000));
        // A new idempotent producer for the retry: the old one's sequence numbers may have moved
        // past what the broker holds (a send it never received), which the broker would refuse.
        if (producer === using) {
          producer = connect();
          await using.close().catch(() => undefined);
        }
      }
    }
  };

  const dispatch = (batch: SimulatedRecord[]) => {
    const tracked: Promise<void> = sendUntilAcknowledged(batch).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const stopping = () => options.signal?.aborted === true || generated >= limit || performance.now() >= deadline;

  try {
    let batch: SimulatedRecord[] = [];
    let batchOpenedAt = 0;
    while (!stopping()) {
      if (mustWait(simulator, Date.now(), paced)) {
        // Nothing is due yet: ship what we have rather than hold it, then wait for the next event.
        if (batch.length > 0 && performance.now() - batchOpenedAt >= 20 && inFlight.size < maxInFlight) {
          dispatch(batch);
          batch = [];
        }
        await sleep(Math.max(1, Math.min(50, simulator.peekTimeMs() - Date.now())));
        continue;
      }
      if (batch.length === 0) batchOpenedAt = performance.now();
      batch.push(simulator.nextRecord());
      generated++;
      if (batch.length >= batchSize) {
        // The next batch was generated while the last one was on the wire; now wait for room.
        while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
        dispatch(batch);
        batch = [];
        await setImmediate();
      }
    }
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (batch.length > 0) dispatch(batch);
    await Promise.all(inFlight);
  } finally {
    clearInterval(progressTimer);
    await producer.close();
  }
  const seconds = elapsed();
  return { sent, errors, retries, elapsedSeconds: seconds, eventsPerSecond: sent / seconds, ...(lastError && { lastError }) };
}
