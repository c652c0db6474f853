/**
 * The shopper simulator: sessions arrive as a Poisson process shaped by the
 * daily traffic curve, each walks the purchase funnel, and their events come out
 * interleaved in event-time order, as a real site's would. Everything is drawn
 * from one seeded generator, so a seed and a start time fix the whole stream.
 */
import { SCHEMA_VERSION } from '../common/event-enums.ts';
import type { ClickstreamEvent } from '../common/event-schema.ts';
import { popMin, siftDown } from '../common/min-heap.ts';
import { buildCatalog, type Catalog } from './catalog.ts';
import { DEFAULT_FUNNEL, validateFunnel, type FunnelConfig } from './funnel.ts';
import { MALFORMED_KINDS, malformedRecord, type MalformedKind } from './malformed.ts';
import { MAX_POPULATION, populationFor, shopperAt } from './population.ts';
import { Rng } from './random.ts';
import { planSession, type SessionContext, type SessionPlan } from './session.ts';
import { PEAK_TRAFFIC, trafficAt } from './traffic-curve.ts';

export interface InjectionRates {
  /** Share of events sent a second time, unchanged (same event_id), a little later. */
  readonly duplicates?: number;
  /** Share of events whose event time is set 2 to 30 minutes in the past. */
  readonly late?: number;
  /** Extra malformed records, as a share of valid events. */
  readonly malformed?: number;
}

export interface SimulatorOptions {
  readonly seed: number;
  /** Simulated clock start, ms since the epoch. */
  readonly startTimeMs: number;
  /** Mean events per second on the simulated clock (the daily mean when the curve is on). */
  readonly eventsPerSecond: number;
  /** Shape arrivals by hour of day. @default true */
  readonly dailyCurve?: boolean;
  /**
   * Shoppers to draw sessions from. @default grows with the rate (`populationFor`), so a
   * shopper starts as many sessions a month as in a typical shop whatever the rate
   */
  readonly populationSize?: number;
  /** @default 2_000 */
  readonly catalogSize?: number;
  /** @default DEFAULT_FUNNEL */
  readonly funnel?: FunnelConfig;
  /** Mean seconds between two events of one session. @default 12 */
  readonly meanSecondsBetweenEvents?: number;
  /**
   * Start with the sessions a live site would already have in progress, so the
   * event rate is steady from the first second instead of ramping up. @default false
   */
  readonly warmStart?: boolean;
  /**
   * Emit each session's events back to back instead of interleaving all open sessions
   * in event-time order. For producing flat out: interleaved, a stream cut after N
   * events holds the first steps of tens of thousands of open sessions and almost no
   * purchases; whole, at most the last session is cut, so any prefix has a shop's
   * funnel. Event times stay those of the session (arrival plus think times): in order
   * within a session, and across the stream out of order by at most a session's length.
   * @default false
   */
  readonly wholeSessions?: boolean;
  /** Test-only defects. @default none */
  readonly inject?: InjectionRates;
  /** @default 'https://shop.example.com' */
  readonly siteUrl?: string;
}

/** Long enough that almost every session in progress at the start began inside it. */
const WARM_UP_MS = 5 * 60_000;

export type Injection = 'duplicate' | 'late' | 'malformed';

/** One record as it goes onto the topic: key, JSON bytes, and what the test switches did to it. */
export interface SimulatedRecord {
  readonly key: string;
  readonly value: Buffer;
  /** The event the bytes encode; absent for malformed records. */
  readonly event?: ClickstreamEvent;
  readonly injected?: Injection;
  readonly defect?: MalformedKind;
}

interface ActiveSession {
  readonly plan: SessionPlan;
  stepIndex: number;
  nextTimeMs: number;
  readonly order: number;
}

export class ShopperSimulator implements IterableIterator<SimulatedRecord> {
  readonly catalog: Catalog;
  /** Shoppers sessions are drawn from (user ids `u_000000000` up to this, exclusive). */
  readonly populationSize: number;
  /** Mean session arrivals per simulated second (the daily mean when the curve is on). */
  readonly sessionsPerSecond: number;
  private readonly rng: Rng;
  private readonly ctx: SessionContext;
  private readonly curve: boolean;
  private readonly wholeSessions: boolean;
  private readonly meanGapMs: number;
  private readonly inject: Required<InjectionRates>;
  private readonly heap: ActiveSession[] = [];
  private nextArrivalMs: number;
  private startTimeMs: number;
  private sessionCount = 0;
  private emitted = 0;
  private readonly pendingDuplicates: { releaseAt: number; record: SimulatedRecord }[] = [];
  private pendingMalformed: SimulatedRecord | undefined;

  constructor(options: SimulatorOptions) {
    const funnel = options.funnel ?? DEFAULT_FUNNEL;
    validateFunnel(funnel);
    if (!(options.eventsPerSecond > 0)) throw new RangeError(`eventsPerSecond must be above zero, got ${options.eventsPerSecond}`);
    this.inject = { duplicates: 0, late: 0, malformed: 0, ...options.inject };
    for (const [name, rate] of Object.entries(this.inject)) {
      if (!(rate >= 0 && rate <= 1)) throw new RangeError(`inject.${name} must be a share between 0 and 1, got ${rate}`);
    }
    this.rng = new Rng(options.seed);
    this.catalog = buildCatalog(this.rng, options.catalogSize ?? 2_000);
    this.ctx = { rng: this.rng, catalog: this.catalog, funnel, siteUrl: options.siteUrl ?? 'https://shop.example.com' };
    this.curve = options.dailyCurve ?? true;
    this.meanGapMs = (options.meanSecondsBetweenEvents ?? 12) * 1000;
    this.sessionsPerSecond = options.eventsPerSecond / meanEventsPerSession(options.seed, this.catalog, funnel, this.ctx.siteUrl);
    const populationSize = options.populationSize ?? populationFor(this.sessionsPerSecond);
    if (!(Number.isInteger(populationSize) && populationSize >= 1 && populationSize <= MAX_POPULATION)) {
      throw new RangeError(`populationSize must be a whole number from 1 to ${MAX_POPULATION}, got ${populationSize}`);
    }
    this.populationSize = populationSize;
    this.wholeSessions = options.wholeSessions ?? false;
    this.startTimeMs = options.startTimeMs;
    this.nextArrivalMs = options.startTimeMs - (options.warmStart ? WARM_UP_MS : 0);
    this.scheduleNextArrival();
  }

  /** Sessions started so far. */
  get sessions(): number {
    return this.sessionCount;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<SimulatedRecord> {
    return { done: false, value: this.nextRecord() };
  }

  /**
   * Moves everything still to come later by `ms`: the pending steps of every open
   * session and the next arrival. A paced producer calls it after the warm-up walk
   * (which takes real time at high rates), so events are sent when their time
   * comes instead of in a burst of overdue ones.
   */
  delay(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`delay must be a non-negative number of ms, got ${ms}`);
    this.admitArrivals(); // the warm-up walk, if it has not run yet
    for (const session of this.heap) session.nextTimeMs += ms;
    this.nextArrivalMs += ms;
    this.startTimeMs += ms;
  }

  /** The simulated time of the next event, without consuming it. */
  peekTimeMs(): number {
    this.admitArrivals();
    return this.heap[0]!.nextTimeMs;
  }

  /**
   * The simulated time the next session starts at. With whole sessions it is the stream's clock: the
   * next event can lie up to a session's length beyond it (a long session's later steps).
   */
  peekArrivalMs(): number {
    this.admitArrivals();
    return this.nextArrivalMs;
  }

  nextRecord(): SimulatedRecord {
    if (this.pendingMalformed) {
      const record = this.pendingMalformed;
      this.pendingMalformed = undefined;
      return this.count(record);
    }
    const duplicate = this.pendingDuplicates[0];
    if (duplicate && duplicate.releaseAt <= this.emitted) {
      this.pendingDuplicates.shift();
      return this.count(duplicate.record);
    }

    this.admitArrivals();
    // Every session in the heap is at or past the start time (warm-up steps are walked on admission).
    const session = this.heap[0]!;
    const record = this.eventRecord(session);
    session.stepIndex++;
    if (session.stepIndex < session.plan.steps.length) {
      session.nextTimeMs += this.nextGapMs();
      siftDown(this.heap, 0, before);
    } else {
      popMin(this.heap, before);
    }

    if (this.inject.duplicates > 0 && this.rng.chance(this.inject.duplicates)) {
      this.pendingDuplicates.push({ releaseAt: this.emitted + this.rng.int(1, 200), record: { ...record, injected: 'duplicate' } });
    }
    if (this.inject.malformed > 0 && this.rng.chance(this.inject.malformed) && record.event) {
      const defect = this.rng.pick(MALFORMED_KINDS);
      this.pendingMalformed = { key: record.key, value: malformedRecord(record.event, defect), injected: 'malformed', defect };
    }
    return this.count(record);
  }

  private count(record: SimulatedRecord): SimulatedRecord {
    this.emitted++;
    return record;
  }

  /**
   * Starts every session that arrives before the earliest pending event; with whole
   * sessions, only the next one, once the open one has emitted its last step.
   */
  private admitArrivals(): void {
    while (this.heap.length === 0 || (!this.wholeSessions && this.nextArrivalMs <= this.heap[0]!.nextTimeMs)) {
      const shopper = shopperAt(this.rng.int(0, this.populationSize - 1));
      const session: ActiveSession = { plan: planSession(this.ctx, shopper), stepIndex: 0, nextTimeMs: Math.round(this.nextArrivalMs), order: this.sessionCount++ };
      this.scheduleNextArrival();
      // A warm-up session is walked to its first step at or after the start right here, without
      // the heap: at high rates the warm-up holds millions of steps, and never emits one of them.
      while (session.nextTimeMs < this.startTimeMs && session.stepIndex < session.plan.steps.length) {
        session.stepIndex++;
        session.nextTimeMs += this.nextGapMs();
      }
      if (session.stepIndex < session.plan.steps.length) push(this.heap, session);
    }
  }

  /** Think time between a session's steps: exponential, at least half a second. */
  private nextGapMs(): number {
    return Math.max(500, Math.round(this.rng.exponential(this.meanGapMs)));
  }

  /** Non-homogeneous Poisson arrivals by thinning against the peak rate. */
  private scheduleNextArrival(): void {
    const peakPerMs = (this.sessionsPerSecond * (this.curve ? PEAK_TRAFFIC : 1)) / 1000;
    for (;;) {
      this.nextArrivalMs += this.rng.exponential(1 / peakPerMs);
      if (!this.curve) return;
      if (this.rng.chance(trafficAt(this.nextArrivalMs) / PEAK_TRAFFIC)) return;
    }
  }

  private eventRecord(session: ActiveSession): SimulatedRecord {
    const { plan } = session;
    const step = plan.steps[session.stepIndex]!;
    const late = this.inject.late > 0 && this.rng.chance(this.inject.late);
    // Built field by field (not with spreads) because this is the simulator's hot path.
    const event: ClickstreamEvent = {
      schema_version: SCHEMA_VERSION,
      event_id: this.rng.uuid(),
      event_type: step.type,
      event_time: late ? session.nextTimeMs - this.rng.int(2, 30) * 60_000 : session.nextTimeMs,
      user_id: plan.shopper.userId,
      session_id: plan.sessionId,
      page_url: step.page,
      referrer: session.stepIndex === 0 ? plan.referrer : this.ctx.siteUrl + '/',
      user_age: plan.shopper.age,
      user_gender: plan.shopper.gender,
      user_country: plan.shopper.country,
      traffic_source: plan.source,
      campaign: plan.campaign,
      device_type: plan.device,
      os: plan.os,
      browser: plan.browser,
    };
    const { product, quantity } = step;
    if (product) {
      event.product_id = product.id;
      event.product_category = product.category;
      event.product_brand = product.brand;
      event.product_price = product.price;
    }
    if (quantity !== undefined) event.quantity = quantity;
    if (step.type === 'purchase' && product && quantity !== undefined) {
      event.order_id = plan.orderId;
      event.revenue = Math.round(product.price * quantity * 100) / 100;
    }
    return { key: plan.sessionId, value: Buffer.from(JSON.stringify(event)), event, ...(late && { injected: 'late' as const }) };
  }
}

/**
 * Mean events per session for this funnel and catalog, measured on a private
 * generator so it does not disturb the main stream. Turns a requested event
 * rate into a session arrival rate.
 */
function meanEventsPerSession(seed: number, catalog: Catalog, funnel: FunnelConfig, siteUrl: string): number {
  const rng = new Rng(seed ^ 0x5eed);
  const ctx: SessionContext = { rng, catalog, funnel, siteUrl };
  let events = 0;
  const samples = 4_000;
  for (let i = 0; i < samples; i++) events += planSession(ctx, shopperAt(rng.int(0, 499))).steps.length;
  return events / samples;
}

// A binary min-heap on (nextTimeMs, order): ties go to the older session, which keeps the order deterministic.
const before = (a: ActiveSession, b: ActiveSession) =>
  a.nextTimeMs < b.nextTimeMs || (a.nextTimeMs === b.nextTimeMs && a.order < b.order);

function push(heap: ActiveSession[], item: ActiveSession): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}
