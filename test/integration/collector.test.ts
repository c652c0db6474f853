/**
 * The collector on the local server, end to end on the stack the integration setup
 * started: trackers' requests in, acknowledged by the real broker, through the real
 * consumer into the lake, out of the dashboard API. Each run uses its own ids and its
 * own minute (20 days back), so counts are exact whatever else the suite wrote.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { QuarantinedRecord } from '../../lambdas/consumer/plan-batch.ts';
import { openLake, waitForConsumer } from './helpers.ts';

const config = inject('config');
const collect = (path: string) => `http://127.0.0.1:${config.dashboardPort}/collect${path}`;

const MINUTE = 60_000;
// A minute of its own, well in the past: the collector moves a tracker's times by its clock skew, so the events land there.
const AT = Math.floor((Date.now() - 20 * 24 * 60 * MINUTE) / MINUTE) * MINUTE + Math.floor(Math.random() * 50) * 1000;
const RUN = randomUUID().slice(0, 8);
const ORIGIN = 'http://shop.test';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function segment(type: string, event: string | undefined, properties: Record<string, unknown>, id: string) {
  // The tracker's clock is an hour fast: sentAt one second after the timestamp, both in its time.
  const trackerNow = Date.now() + 3_600_000;
  return {
    type,
    ...(event && { event }),
    properties,
    messageId: `ajs-next-${trackerNow}-${id}`,
    anonymousId: `anon-${RUN}`,
    timestamp: new Date(trackerNow - (Date.now() - AT)).toISOString(),
    context: { page: { url: `https://shop.test/p/1?utm_source=newsletter&utm_medium=email&utm_campaign=run-${RUN}`, referrer: '' } },
  };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(collect(path), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'text/plain', origin: ORIGIN, 'user-agent': UA, ...headers } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

describe('collector on the local server', () => {
  const ids = { view: randomUUID(), add: randomUUID(), order: randomUUID(), page: randomUUID(), bad: randomUUID() };
  let lake: Awaited<ReturnType<typeof openLake>>;
  const answers: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sentAt = new Date(Date.now() + 3_600_000).toISOString();
    answers.push(
      (
        await post('/v1/b', {
          writeKey: 'test',
          sentAt,
          batch: [
            segment('page', undefined, {}, ids.page),
            segment('track', 'Product Viewed', { product_id: `p-${RUN}`, price: 12.5, category: 'Games', brand: 'Acme' }, ids.view),
            segment('track', 'Product Added', { product_id: `p-${RUN}`, price: 12.5, quantity: 2 }, ids.add),
            segment('track', 'Order Completed', { order_id: `o-${RUN}`, products: [{ product_id: `p-${RUN}`, price: 12.5, quantity: 2 }, { product_id: `q-${RUN}`, price: 5, quantity: 1 }] }, ids.order),
            segment('track', 'Product Viewed', { product_id: `p-${RUN}` }, ids.bad),
            segment('identify', undefined, {}, randomUUID()),
          ].map((m) => ({ ...m, sentAt })),
        })
      ).body,
    );
    await waitForConsumer(config);
    lake = await openLake(config);
  }, 180_000);
  afterAll(() => lake?.close());

  it('acknowledges only what the broker took, and says what it ignored and sent to quarantine', () => {
    expect(answers[0]).toEqual({ accepted: 5, quarantined: 1, ignored: 1 });
  });

  it('lands every accepted event once in the lake, at the corrected time, with the tracker ids and the channel', async () => {
    const rows = await lake.query(
      `SELECT event_id, event_type, epoch_ms(event_time)::DOUBLE AS t, user_id, traffic_source, campaign, product_id, quantity, revenue, order_id, user_age, device_type
       FROM events WHERE user_id = 'anon-${RUN}' ORDER BY event_type, product_id`,
    );
    expect(rows.map((r) => [r.event_type, r.product_id ?? null, r.quantity ?? null, r.revenue ?? null])).toEqual([
      ['add_to_cart', `p-${RUN}`, 2, null],
      ['page_view', null, null, null],
      ['product_view', `p-${RUN}`, null, null],
      ['purchase', `p-${RUN}`, 2, 25],
      ['purchase', `q-${RUN}`, 1, 5],
    ]);
    expect(rows.filter((r) => r.event_type !== 'purchase').map((r) => r.event_id).sort()).toEqual([ids.add, ids.page, ids.view].sort());
    for (const row of rows) {
      // The tracker's clock was an hour fast; the collector's receipt is the clock of record.
      expect(Math.abs(Number(row.t) - AT)).toBeLessThan(30_000);
      expect(row).toMatchObject({ traffic_source: 'email', campaign: `run-${RUN}`, user_age: null });
    }
  });

  it('quarantines the event that failed the schema, with its reason', () => {
    const dir = join(lake.dir, 'quarantine');
    const lines = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile())
      .flatMap((f) => readFileSync(join(f.parentPath, f.name), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as QuarantinedRecord)
      .filter((q) => q.raw?.includes(ids.bad));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ code: 'invalid_event', reason: 'product_price must not be null for this event_type' });
  });

  it('shows the visit on the dashboard API, the order counted once', async () => {
    const range = `from=${AT - 5 * MINUTE}&to=${AT + 5 * MINUTE}`;
    // The dashboard's mirror syncs every second; wait for it to hold the lake the consumer wrote.
    let kpis: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) {
      const answer = (await (await fetch(`http://127.0.0.1:${config.dashboardPort}/api/query/kpis?${range}&source=email`)).json()) as { rows: Record<string, unknown>[] };
      kpis = answer.rows[0] ?? {};
      if (Number(kpis.orders) >= 1) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(kpis).toMatchObject({ orders: 1, revenue: 30 });
  });

  it('answers a tracker on another origin, and refuses a bad body before the broker sees it', async () => {
    const preflight = await fetch(collect('/v1/b'), { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const bad = await post('/com.snowplowanalytics.snowplow/tp2', { data: [] }, { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/payload_data envelope/);
  });
});
