/**
 * The dashboard in Debian's Chromium, driven by playwright-core, against the
 * running local pipeline: real events, real Parquet, real DuckDB behind the API.
 * The page reaches the API through a proxy that answers 429 beyond one request in
 * flight: the tightest concurrency the cloud query function can be given
 * (query.reservedConcurrency = 1), with one viewer.
 */
import { isDeepStrictEqual } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatCount, formatMoney, formatRate } from '../../dashboard/src/format.ts';
import type { Row } from '../../lambdas/query/query-api.ts';
import { produce } from '../../local/produce/produce.ts';
import { dashboardUrl } from '../../local/serve/dashboard-service.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { startConcurrencyProxy, type ConcurrencyProxy } from './concurrency-proxy.ts';
import { waitForConsumer } from './helpers.ts';

const config = inject('config');
const CHROMIUM = process.env.CLICKSTREAM_CHROMIUM ?? '/usr/bin/chromium';
let browser: Browser;
let page: Page;
let proxy: ConcurrencyProxy;

/** One named query's first row, asked of the server directly (not through the proxy). */
async function api(name: string, params: Record<string, string>): Promise<Row> {
  const response = await fetch(`${dashboardUrl(config)}api/query/${name}?${new URLSearchParams(params).toString()}`);
  return ((await response.json()) as { rows: Row[] }).rows[0]!;
}

/** The last hour and the next quarter of an hour: every event `produce --rate max` just sent. */
const aheadOfNow = () => ({ from: String(Date.now() - 3_600_000), to: String(Date.now() + 900_000) });

/** The page's own request parameters, read back from the last /api/dashboard request it made, and how many it made. */
let lastQuery: Record<string, string> = {};
let dashboardRequests = 0;

/** How many refreshes the page has rendered (it counts them in body[data-loaded]). */
const rendered = async () => Number((await page.locator('body').getAttribute('data-loaded')) ?? 0);

async function loaded(after: number): Promise<number> {
  await expect.poll(rendered, { timeout: 30_000, interval: 100 }).toBeGreaterThan(after);
  return rendered();
}

const tile = (key: string) => page.locator(`[data-kpi="${key}"] .value`).innerText();

beforeAll(async () => {
  const summary = await produce({ bootstrapServers: [bootstrapServers(config)], topic: config.topic, rate: 'max', count: 20_000, seed: 7 });
  expect(summary.errors).toBe(0);
  await waitForConsumer(config);
  // The server mirrors the lake every 2 s: wait until its answer includes the new events. `--rate max`
  // simulates whole sessions, so some events lie minutes ahead of the clock: the range reaches past now.
  const deadline = Date.now() + 30_000;
  while (Number((await api('kpis', aheadOfNow())).events) < 20_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  proxy = await startConcurrencyProxy(dashboardUrl(config), 1, 300);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/dashboard') {
      lastQuery = Object.fromEntries(url.searchParams);
      dashboardRequests++;
    }
  });
  await page.goto(proxy.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
});

describe('dashboard in Chromium', () => {
  it('loads real data into the KPI tiles, showing exactly what the API returned', async () => {
    await loaded(0);
    expect(Number((await api('kpis', aheadOfNow())).events)).toBeGreaterThanOrEqual(20_000);
    // The page's range ends now: it holds those of them that already happened.
    const dashboardKpis = async () =>
      ((await (await fetch(`${dashboardUrl(config)}api/dashboard?${new URLSearchParams(lastQuery).toString()}`)).json()) as { panels: { kpis: { rows: Row[] } } }).panels.kpis.rows[0]!;
    const tiles = async () => ({ events: await tile('events'), sessions: await tile('sessions'), revenue: await tile('revenue'), conversion_rate: await tile('conversion_rate') });
    const shown = (row: Row) => ({ events: formatCount(row.events), sessions: formatCount(row.sessions), revenue: formatMoney(row.revenue), conversion_rate: formatRate(row.conversion_rate) });
    const counts = (row: Row) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'revenue' && k !== 'average_order_value'));
    // Answers of one lake: other tests' events keep arriving, and each answer is cached from when it was
    // computed (the dashboard's after its last panel's), so a query, the dashboard and the page's last render,
    // asked a moment apart, can straddle a sync. Asked again until they are of one sync, then compared exactly.
    const look = async () => ({ kpis: await api('kpis', lastQuery), fromDashboard: await dashboardKpis(), onPage: await tiles() });
    let seen = await look();
    const agree = ({ kpis, fromDashboard, onPage }: typeof seen) => isDeepStrictEqual(counts(kpis), counts(fromDashboard)) && isDeepStrictEqual(onPage, shown(kpis));
    for (const deadline = Date.now() + 30_000; !agree(seen) && Date.now() < deadline; seen = await look()) await new Promise((r) => setTimeout(r, 250));
    const { kpis, fromDashboard, onPage } = seen;
    expect(Number(kpis.events)).toBeGreaterThan(5_000);
    expect(counts(fromDashboard)).toEqual(counts(kpis));
    // Money to a millionth: DuckDB sums doubles in parallel, in no fixed order, so two computations of one
    // sum can differ in the last bits (seen: 858956.1000000015 against ...0999999989).
    expect(Number(fromDashboard.revenue)).toBeCloseTo(Number(kpis.revenue), 6);
    expect(Number(fromDashboard.average_order_value)).toBeCloseTo(Number(kpis.average_order_value), 6);
    expect(onPage).toEqual(shown(kpis));
    expect(await page.locator('#status').isHidden()).toBe(true);
  });

  it('renders the funnel, the charts and the breakdowns', async () => {
    expect(await page.locator('#funnel .bar').count()).toBe(5);
    expect(await page.locator('#events-chart svg path').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#devices .bar').count()).toBe(3);
    expect(await page.locator('#products tr').count()).toBeGreaterThan(1);
    expect(await page.locator('#freshness').innerText()).toMatch(/^newest event .* ago, written .* ago$/);
  });

  it('sends aligned time ranges: `to` on the step config.json gives, `from` a whole range before it', async () => {
    const { rangeStepMs } = (await (await fetch(`${dashboardUrl(config)}config.json`)).json()) as { rangeStepMs: number };
    expect(Number(lastQuery.to) % rangeStepMs).toBe(0);
    expect(Number(lastQuery.to) - Number(lastQuery.from)).toBe(3_600_000);
  });

  it('changes the figures when a filter changes, even while a refresh is in flight', async () => {
    const before = await tile('events');
    const generation = await rendered();
    // Changed while the proxy holds a request: a page that sent another now would get a 429.
    const release = proxy.hold();
    await expect.poll(() => proxy.counts.inFlight, { timeout: 30_000, interval: 20 }).toBe(1);
    await page.selectOption('select[name="device"]', 'tablet');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(proxy.counts).toMatchObject({ inFlight: 1, rejected: 0 });
    release();
    await loaded(generation);
    expect(lastQuery.device).toBe('tablet');
    const tablet = await api('kpis', lastQuery);
    expect(await tile('events')).toBe(formatCount(tablet.events));
    expect(await tile('events')).not.toBe(before);
    expect(await page.locator('#devices .bar').count()).toBe(1);
  });

  it('never had two API requests in flight: no 429 from the one-at-a-time proxy', () => {
    expect(proxy.counts.forwarded).toBeGreaterThanOrEqual(3);
    expect(proxy.counts.rejected).toBe(0);
    expect(proxy.counts.mostInFlight).toBe(1);
  });

  it('leaves bots out unless the device filter asks for them, and says so', async () => {
    expect(await page.locator('#bots-note').innerText()).toMatch(/only with Device: bot/);
    const generation = await rendered();
    await page.selectOption('select[name="device"]', 'bot');
    await loaded(generation);
    expect(lastQuery.device).toBe('bot');
    // The simulator sends no bots: the page shows the API's answer for them, nothing.
    const bots = await api('kpis', lastQuery);
    expect(bots.events).toBe(0);
    expect(await tile('events')).toBe(formatCount(bots.events));
    expect(await page.locator('#devices .bar').count()).toBe(0);
  });

  it('asks nothing while the page is hidden, and refreshes as soon as it is seen again', async () => {
    const { refreshMs } = (await (await fetch(`${dashboardUrl(config)}config.json`)).json()) as { refreshMs: number };
    // Headless Chromium shows every page, so the test says what a browser says of a background tab.
    const setHidden = (hidden: boolean) =>
      page.evaluate((h) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await loaded(await rendered());
    await setHidden(true);
    await new Promise((resolve) => setTimeout(resolve, refreshMs)); // a request in flight may still land
    const hiddenAt = dashboardRequests;
    const generation = await rendered();
    await new Promise((resolve) => setTimeout(resolve, 3 * refreshMs));
    expect(dashboardRequests).toBe(hiddenAt);
    await setHidden(false);
    // At once, not at the next tick of a timer (refreshMs later).
    await expect.poll(() => dashboardRequests, { timeout: refreshMs / 2, interval: 20 }).toBeGreaterThan(hiddenAt);
    await loaded(generation);
  });

  it('says so when the API cannot be reached', async () => {
    await page.route('**/api/dashboard**', (route) => route.abort());
    const generation = await rendered();
    await page.selectOption('select[name="device"]', 'desktop');
    await page.waitForSelector('#status.error', { timeout: 15_000 });
    expect(await page.locator('#status').innerText()).toMatch(/^Cannot reach the query API or the lake/);
    expect(await rendered()).toBe(generation);
    await page.unroute('**/api/dashboard**');
  });

  it('with the hosted config, aligns a day to a step of a 240th of it (6 minutes), an hour still to 30 s', async () => {
    await page.close(); // one page at a time through the one-at-a-time proxy
    const hosted = await browser.newPage();
    await hosted.route('**/config.json', (route) => route.fulfill({ json: { apiBaseUrl: '/api', refreshMs: 2_000, rangeStepMs: 30_000, stepsPerRange: 240 } }));
    const sent: Record<string, string>[] = [];
    hosted.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/dashboard') sent.push(Object.fromEntries(url.searchParams));
    });
    // The page's clock 100 s past a 6-minute boundary: a 30 s step would end the range 2 minutes past it.
    const boundary = Math.floor(Date.now() / 360_000) * 360_000;
    await hosted.clock.setFixedTime(boundary + 100_000);
    await hosted.goto(proxy.url);
    await expect.poll(() => sent.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await hosted.selectOption('select[name="range"]', '86400000');
    await expect.poll(() => sent.some((q) => Number(q.to) - Number(q.from) === 86_400_000), { timeout: 30_000 }).toBe(true);
    const hour = sent.find((q) => Number(q.to) - Number(q.from) === 3_600_000)!;
    const day = sent.find((q) => Number(q.to) - Number(q.from) === 86_400_000)!;
    expect(Number(hour.to)).toBe(boundary + 120_000);
    expect(Number(day.to)).toBe(boundary + 360_000);
    await hosted.close();
  });
});
