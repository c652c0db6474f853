/**
 * The producer's pacing (local/produce/produce.ts, mustWait): paced, a record waits for its time;
 * flat out, the stream may run MAX_LEAD_MS ahead of the wall clock, measured by the sessions' starts,
 * as whole sessions put a long session's later steps minutes beyond them.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LEAD_MS, mustWait } from '../../local/produce/produce.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';

const START = Date.UTC(2026, 10, 21, 10);

describe('the producer’s pacing', () => {
  it('flat out, waits only while sessions start more than the lead ahead, not for a long session’s later steps', () => {
    const sim = new ShopperSimulator({ seed: 42, startTimeMs: START, eventsPerSecond: 50_000, dailyCurve: false, wholeSessions: true });
    // Into a session whose next step lies beyond the lead, while sessions still start within seconds of START.
    let records = 0;
    while (sim.peekTimeMs() <= START + MAX_LEAD_MS) {
      sim.nextRecord();
      expect(++records, 'no session as long as the lead in 200,000 records').toBeLessThan(200_000);
    }
    expect(sim.peekArrivalMs() - START).toBeLessThan(60_000);
    expect(mustWait(sim, START, false)).toBe(false);
    // The sessions' starts beyond the lead: wait.
    expect(mustWait(sim, sim.peekArrivalMs() - MAX_LEAD_MS - 1, false)).toBe(true);
    expect(mustWait(sim, sim.peekArrivalMs() - MAX_LEAD_MS, false)).toBe(false);
  });

  it('paced, waits for each record’s own time', () => {
    const sim = new ShopperSimulator({ seed: 42, startTimeMs: START, eventsPerSecond: 100, dailyCurve: false, warmStart: true });
    expect(mustWait(sim, sim.peekTimeMs() - 1, true)).toBe(true);
    expect(mustWait(sim, sim.peekTimeMs(), true)).toBe(false);
  });
});
