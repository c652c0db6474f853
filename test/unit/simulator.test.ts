import { describe, expect, it, vi } from 'vitest';
import { SHOPPER_DEVICE_TYPES, TRAFFIC_SOURCES } from '../../lambdas/common/event-enums.ts';
import type { ClickstreamEvent } from '../../lambdas/common/event-schema.ts';
import { DEFAULT_FUNNEL, expectedConversionRate } from '../../lambdas/simulator/funnel.ts';
import {
  COUNTRY_WEIGHTS,
  DEVICE_WEIGHTS,
  expectedSessionsPerActiveUser,
  MAX_POPULATION,
  MIN_POPULATION,
  populationFor,
  SESSIONS_PER_SHOPPER_PER_30_DAYS,
  shopperAt,
} from '../../lambdas/simulator/population.ts';
import { REMOVE_SECOND_LINE, SECOND_LINE, SOURCE_WEIGHTS } from '../../lambdas/simulator/session.ts';
import { ShopperSimulator, type SimulatedRecord, type SimulatorOptions } from '../../lambdas/simulator/simulator.ts';
import { HOURLY_TRAFFIC, PEAK_TRAFFIC } from '../../lambdas/simulator/traffic-curve.ts';

// The statistical tests simulate hundreds of thousands of events: seconds each on a busy two-core machine.
vi.setConfig({ testTimeout: 60_000 });

const START = Date.UTC(2026, 10, 23, 0);

function take(count: number, options: Partial<SimulatorOptions> = {}): SimulatedRecord[] {
  const sim = new ShopperSimulator({ seed: 42, startTimeMs: START, eventsPerSecond: 20, dailyCurve: false, ...options });
  return Array.from({ length: count }, () => sim.nextRecord());
}

/** Four standard errors of a binomial proportion (plus a little slack): fails for a wrong model, not for chance. */
const binomialTolerance = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n) + 0.005;

/** The shopper an event's user id names, for checking its demographics against the population. */
const shopperOf = (e: ClickstreamEvent) => shopperAt(Number(e.user_id.slice(2)));

function bySession(events: ClickstreamEvent[]): Map<string, ClickstreamEvent[]> {
  const sessions = new Map<string, ClickstreamEvent[]>();
  for (const e of events) {
    const list = sessions.get(e.session_id) ?? [];
    list.push(e);
    sessions.set(e.session_id, list);
  }
  return sessions;
}

describe('ShopperSimulator over 100k events', () => {
  const records = take(100_000);
  const events = records.map((r) => r.event!);
  const sessions = bySession(events);
  const lastTime = Math.max(...events.map((e) => e.event_time));
  // Sessions that began in the last 15 simulated minutes may still be running when the sample ends.
  const complete = [...sessions.values()].filter((s) => s[0]!.event_time < lastTime - 15 * 60_000);

  it('emits events in event-time order', () => {
    const outOfOrder = events.filter((e, i) => i > 0 && e.event_time < events[i - 1]!.event_time);
    expect(outOfOrder).toEqual([]);
  });

  it('walks the funnel in order within each session', () => {
    const rank = { page_view: 0, product_view: 1, add_to_cart: 2, remove_from_cart: 3, checkout: 4, purchase: 5 };
    for (const session of sessions.values()) {
      const ranks = session.map((e) => rank[e.event_type]);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(session[0]!.event_type).toBe('page_view');
    }
  });

  it('only purchases after a cart addition, and funnel counts never grow down the funnel', () => {
    const reached = (type: ClickstreamEvent['event_type']) => complete.filter((s) => s.some((e) => e.event_type === type)).length;
    const [viewed, carted, checkedOut, purchased] = ['product_view', 'add_to_cart', 'checkout', 'purchase'].map((t) =>
      reached(t as ClickstreamEvent['event_type']),
    ) as [number, number, number, number];
    expect(complete.length).toBeGreaterThan(viewed);
    expect(viewed).toBeGreaterThan(carted);
    expect(carted).toBeGreaterThan(checkedOut);
    expect(checkedOut).toBeGreaterThan(purchased);
    expect(purchased).toBeGreaterThan(0);
    for (const session of sessions.values()) {
      const firstPurchase = session.findIndex((e) => e.event_type === 'purchase');
      const firstCart = session.findIndex((e) => e.event_type === 'add_to_cart');
      if (firstPurchase >= 0) expect(firstCart).toBeGreaterThanOrEqual(0);
      if (firstPurchase >= 0) expect(firstCart).toBeLessThan(firstPurchase);
    }
  });

  it('converts each device and traffic source at the configured rate', () => {
    for (const device of SHOPPER_DEVICE_TYPES) {
      for (const source of TRAFFIC_SOURCES) {
        const cell = complete.filter((s) => s[0]!.device_type === device && s[0]!.traffic_source === source);
        const converted = cell.filter((s) => s.some((e) => e.event_type === 'purchase')).length;
        const expected = expectedConversionRate(DEFAULT_FUNNEL, device, source);
        const tolerance = binomialTolerance(expected, cell.length);
        expect(cell.length, `${device}/${source}`).toBeGreaterThan(50);
        expect(Math.abs(converted / cell.length - expected), `${device}/${source}`).toBeLessThanOrEqual(tolerance);
      }
    }
  });

  it('ties each purchase line to an order and prices it as price x quantity', () => {
    const purchases = events.filter((e) => e.event_type === 'purchase');
    expect(purchases.length).toBeGreaterThan(100);
    for (const p of purchases) {
      expect(p.order_id).toMatch(/^o_/);
      expect(p.revenue).toBeCloseTo(p.product_price! * p.quantity!, 2);
    }
  });

  it('lists each product once per order, and adds a second product at the modelled rate', () => {
    const orders = new Map<string, ClickstreamEvent[]>();
    for (const e of events) if (e.event_type === 'purchase') orders.set(e.order_id!, [...(orders.get(e.order_id!) ?? []), e]);
    for (const lines of orders.values()) expect(new Set(lines.map((l) => l.product_id)).size, lines[0]!.order_id!).toBe(lines.length);
    // A second line needs a second distinct product viewed; given one, it is added with SECOND_LINE and
    // survives to the order unless removed (REMOVE_SECOND_LINE). Purchase does not depend on views, so
    // the share among purchasing sessions that could have had one is the model's product.
    const eligible = complete.filter(
      (s) => s.some((e) => e.event_type === 'purchase') && new Set(s.filter((e) => e.event_type === 'product_view').map((e) => e.product_id)).size >= 2,
    );
    const twoLine = eligible.filter((s) => s.filter((e) => e.event_type === 'purchase').length === 2).length;
    const expected = SECOND_LINE * (1 - REMOVE_SECOND_LINE);
    expect(eligible.length).toBeGreaterThan(500);
    expect(Math.abs(twoLine / eligible.length - expected)).toBeLessThanOrEqual(binomialTolerance(expected, eligible.length));
  });

  it('gives every event its shopper’s demographics, and a shopper rarely two sessions', () => {
    const mismatched = events.filter((e) => {
      const shopper = shopperOf(e);
      return e.user_age !== shopper.age || e.user_gender !== shopper.gender || e.user_country !== shopper.country;
    });
    expect(mismatched).toEqual([]);
    // About 28,000 sessions among the ~20 million shoppers of a 20 events/s shop: a handful return.
    const users = new Set(events.map((e) => e.user_id)).size;
    expect(sessions.size / users).toBeLessThan(1.01);
  });

  it('produces close to the requested event rate', () => {
    const seconds = (lastTime - START) / 1000;
    expect(events.length / seconds).toBeGreaterThan(20 * 0.9);
    expect(events.length / seconds).toBeLessThan(20 * 1.1);
  });
});

describe('shopper population', () => {
  it('is a pure function of the index: the same shopper in every run, spread as the weights say', () => {
    expect(shopperAt(123_456)).toEqual(shopperAt(123_456));
    expect(shopperAt(0).userId).toBe('u_000000000');
    expect(shopperAt(MAX_POPULATION - 1).userId).toBe('u_999999999');
    const sample = Array.from({ length: 20_000 }, (_, i) => shopperAt(i * 49_999));
    const share = (weights: Readonly<Record<string, number>>, key: string) => weights[key]! / Object.values(weights).reduce((a, b) => a + b, 0);
    for (const [field, weights, key] of [['country', COUNTRY_WEIGHTS, 'US'], ['usualDevice', DEVICE_WEIGHTS, 'tablet']] as const) {
      const expected = share(weights, key);
      const seen = sample.filter((s) => s[field] === key).length / sample.length;
      expect(Math.abs(seen - expected), `${field} ${key}`).toBeLessThanOrEqual(binomialTolerance(expected, sample.length));
    }
    // Each attribute has its own draw: country and device are independent, as the weights intend.
    const joint = share(COUNTRY_WEIGHTS, 'US') * share(DEVICE_WEIGHTS, 'mobile');
    const seenJoint = sample.filter((s) => s.country === 'US' && s.usualDevice === 'mobile').length / sample.length;
    expect(Math.abs(seenJoint - joint)).toBeLessThanOrEqual(binomialTolerance(joint, sample.length));
    const ages = sample.map((s) => s.age);
    expect([Math.min(...ages), Math.max(...ages)]).toEqual([18, 80]);
  });

  it('grows with the session rate so a shopper visits as often as in a typical shop, within bounds', () => {
    // 1.4 sessions per active user in 30 days: the typical shop the constant is calibrated on.
    const perSecond = 100;
    expect(populationFor(perSecond)).toBe(Math.round((perSecond * 30 * 86_400) / SESSIONS_PER_SHOPPER_PER_30_DAYS));
    expect(expectedSessionsPerActiveUser(perSecond * 30 * 86_400, populationFor(perSecond))).toBeCloseTo(1.4, 2);
    expect(populationFor(0.0001)).toBe(MIN_POPULATION);
    expect(populationFor(1e6)).toBe(MAX_POPULATION);
  });

  it.each([1_000, 10_000, 50_000])('keeps sessions per user per hour plausible at %i events/s', (eventsPerSecond) => {
    const sim = new ShopperSimulator({ seed: 1, startTimeMs: START, eventsPerSecond });
    expect(sim.populationSize).toBe(populationFor(sim.sessionsPerSecond));
    // GA4 ends a session after 30 idle minutes, so a second one within the hour needs a half-hour
    // pause; shops report about 1.4 sessions per user in a whole month. At the busiest hour of the
    // curve, even past the population's cap, a shopper averages under 1.05 sessions in an hour.
    const peakHourSessions = sim.sessionsPerSecond * PEAK_TRAFFIC * 3_600;
    expect(expectedSessionsPerActiveUser(peakHourSessions, sim.populationSize)).toBeLessThan(1.05);
    // The population this replaced: 50,000 shoppers at any rate.
    expect(expectedSessionsPerActiveUser(peakHourSessions, 50_000)).toBeGreaterThan(20);
  });

  it('draws a session’s shopper uniformly, so distinct users follow the occupancy model', () => {
    // A population about the size of the sample's session count, where repeats are common enough to count.
    const populationSize = 25_000;
    const events = take(100_000, { populationSize }).map((r) => r.event!);
    const sessions = new Set(events.map((e) => e.session_id)).size;
    const users = new Set(events.map((e) => e.user_id)).size;
    const mu = sessions / populationSize;
    const expected = sessions / expectedSessionsPerActiveUser(sessions, populationSize);
    // Variance of the number of occupied cells when `sessions` balls fall into `populationSize` cells.
    const sd = Math.sqrt(populationSize * Math.exp(-mu) * (1 - (1 + mu) * Math.exp(-mu)));
    expect(Math.abs(users - expected)).toBeLessThanOrEqual(4 * sd);
    expect(Math.max(...events.map((e) => Number(e.user_id.slice(2))))).toBeLessThan(populationSize);
  });
});

describe('ShopperSimulator with whole sessions (producing flat out)', () => {
  const eventsPerSecond = 50_000;
  const prefix = (wholeSessions: boolean) => take(50_000, { eventsPerSecond, wholeSessions }).map((r) => r.event!);
  const events = prefix(true);
  const sessions = bySession(events);
  // Device and source are drawn independently, the device from the same weights as a shopper's usual one.
  const total = (weights: Readonly<Record<string, number>>) => Object.values(weights).reduce((a, b) => a + b, 0);
  const expectedConversion = SHOPPER_DEVICE_TYPES.flatMap((d) =>
    TRAFFIC_SOURCES.map((s) => (DEVICE_WEIGHTS[d] / total(DEVICE_WEIGHTS)) * (SOURCE_WEIGHTS[s] / total(SOURCE_WEIGHTS)) * expectedConversionRate(DEFAULT_FUNNEL, d, s)),
  ).reduce((a, b) => a + b, 0);
  const conversion = (list: Iterable<ClickstreamEvent[]>) => {
    const all = [...list];
    return all.filter((s) => s.some((e) => e.event_type === 'purchase')).length / all.length;
  };

  it('emits each session back to back, from its landing page, in event-time order', () => {
    const finished = new Set<string>();
    let current = '';
    for (const e of events) {
      if (e.session_id !== current) {
        expect(finished.has(e.session_id), e.session_id).toBe(false);
        finished.add(current);
        current = e.session_id;
        expect(e.event_type).toBe('page_view');
      }
    }
    for (const session of sessions.values()) {
      for (let i = 1; i < session.length; i++) expect(session[i]!.event_time).toBeGreaterThan(session[i - 1]!.event_time);
    }
  });

  it('gives a 50,000-event prefix the funnel’s conversion, where interleaving gives almost none', () => {
    expect(sessions.size).toBeGreaterThan(10_000);
    expect(Math.abs(conversion(sessions.values()) - expectedConversion)).toBeLessThanOrEqual(binomialTolerance(expectedConversion, sessions.size));
    // Interleaved, 50,000 events at this rate are about 4 simulated seconds of tens of thousands of open sessions.
    expect(conversion(bySession(prefix(false)).values())).toBeLessThan(expectedConversion / 10);
  });

  it('starts sessions at the requested rate on the simulated clock', () => {
    const starts = [...sessions.values()].map((s) => s[0]!.event_time);
    const sim = new ShopperSimulator({ seed: 42, startTimeMs: START, eventsPerSecond, dailyCurve: false, wholeSessions: true });
    const seconds = (Math.max(...starts) - START) / 1000;
    // Poisson arrivals: over ~14,000 sessions the count is within 4% of its mean by a wide margin.
    expect(starts.length / seconds / sim.sessionsPerSecond).toBeGreaterThan(0.96);
    expect(starts.length / seconds / sim.sessionsPerSecond).toBeLessThan(1.04);
  });
});

describe('ShopperSimulator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const bytes = (seed: number) => take(2_000, { seed }).map((r) => r.value.toString('utf8'));
    expect(bytes(1)).toEqual(bytes(1));
    expect(bytes(1)).not.toEqual(bytes(2));
  });

  it('starts at the steady rate with a warm start, and ramps up without one', () => {
    const firstMinute = (warmStart: boolean) =>
      take(20_000, { eventsPerSecond: 100, warmStart }).filter((r) => r.event!.event_time < START + 60_000).length;
    // A cold start only has sessions that began after START, so their later steps are still to come.
    expect(firstMinute(true)).toBeGreaterThan(100 * 60 * 0.85);
    expect(firstMinute(true)).toBeLessThan(100 * 60 * 1.15);
    expect(firstMinute(false)).toBeLessThan(100 * 60 * 0.7);
    expect(Math.min(...take(1_000, { warmStart: true }).map((r) => r.event!.event_time))).toBeGreaterThanOrEqual(START);
  });

  it('delay() moves every event still to come later by exactly that much, keeping the sequence', () => {
    const options = { seed: 8, startTimeMs: START, eventsPerSecond: 50, dailyCurve: false, warmStart: true };
    const plain = new ShopperSimulator(options);
    const delayed = new ShopperSimulator(options);
    delayed.delay(7_000);
    for (let i = 0; i < 2_000; i++) {
      const [a, b] = [plain.nextRecord().event!, delayed.nextRecord().event!];
      expect(b.event_time - a.event_time).toBe(7_000);
      expect(b.event_id).toBe(a.event_id);
    }
    expect(() => delayed.delay(-1)).toThrow(/non-negative/);
  });

  it('follows the daily traffic curve', () => {
    const events = take(86_400, { eventsPerSecond: 1, dailyCurve: true }).map((r) => r.event!);
    const perHour = new Array<number>(24).fill(0);
    for (const e of events) if (e.event_time < START + 86_400_000) perHour[new Date(e.event_time).getUTCHours()]!++;
    const peakHour = HOURLY_TRAFFIC.indexOf(Math.max(...HOURLY_TRAFFIC));
    const quietHour = HOURLY_TRAFFIC.indexOf(Math.min(...HOURLY_TRAFFIC));
    const expectedRatio = HOURLY_TRAFFIC[peakHour]! / HOURLY_TRAFFIC[quietHour]!;
    expect(perHour[peakHour]! / perHour[quietHour]!).toBeGreaterThan(expectedRatio * 0.7);
    expect(perHour[peakHour]! / perHour[quietHour]!).toBeLessThan(expectedRatio * 1.3);
  });

  it('injects duplicates, late events and malformed records at the requested shares', () => {
    const records = take(50_000, { inject: { duplicates: 0.02, late: 0.01, malformed: 0.01 } });
    const count = (kind: string) => records.filter((r) => r.injected === kind).length;
    const valid = records.filter((r) => r.injected !== 'malformed').length;
    for (const [kind, share] of [['duplicate', 0.02], ['late', 0.01], ['malformed', 0.01]] as const) {
      expect(count(kind) / valid, kind).toBeGreaterThan(share * 0.8);
      expect(count(kind) / valid, kind).toBeLessThan(share * 1.2);
    }
    const firstSeen = new Map<string, string>();
    for (const r of records) {
      if (!r.event) continue;
      if (r.injected === 'duplicate') expect(firstSeen.get(r.event.event_id)).toBe(r.value.toString());
      else {
        expect(firstSeen.has(r.event.event_id)).toBe(false);
        firstSeen.set(r.event.event_id, r.value.toString());
      }
    }
    expect(new Set(records.filter((r) => r.defect).map((r) => r.defect)).size).toBe(8);
  });

  it.each([
    [{ eventsPerSecond: 0 }, /eventsPerSecond must be above zero/],
    [{ populationSize: 0 }, /populationSize must be a whole number from 1 to 1000000000, got 0/],
    [{ populationSize: 2e9 }, /populationSize must be a whole number from 1 to 1000000000/],
    [{ inject: { duplicates: 2 } }, /inject.duplicates must be a share between 0 and 1/],
    [{ funnel: { ...DEFAULT_FUNNEL, checkout: 1.5 } }, /funnel checkout must be a probability/],
  ])('rejects bad options %o', (options, message) => {
    expect(() => take(1, options)).toThrow(message);
  });
});
