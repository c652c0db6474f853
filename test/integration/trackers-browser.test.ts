/**
 * Real trackers against the local collector: a shop page in Debian's Chromium bundles
 * @segment/analytics-next and @snowplow/browser-tracker from npm, served from its own
 * origin, and records a visit with each (page views, a product view, a cart addition,
 * a checkout, an order). The test finds exactly those events in the lake, enriched from
 * the request, and the visit on the dashboard API.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { portFromEnv } from '../port.ts';
import { openLake, waitForConsumer } from './helpers.ts';

const config = inject('config');
const CHROMIUM = process.env.CLICKSTREAM_CHROMIUM ?? '/usr/bin/chromium';
const SHOP_PORT = portFromEnv('CLICKSTREAM_TEST_SHOP_PORT', process.env.CLICKSTREAM_TEST_SHOP_PORT, 28085);
/** A shopper's desktop Chrome: headless Chromium names itself HeadlessChrome, which is (rightly) a bot. */
const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const RUN = randomUUID().slice(0, 8);
/** Far above any simulated price, so the visit's products top the dashboard's product table. */
const PRICE = 400_000;
/** Rows the visit makes: Segment 6 (page, view, cart, checkout, an order of two lines), Snowplow 5 (two page views, view, cart, a one-line order). */
const EXPECTED_ROWS = 11;

let browser: Browser;
let shop: Server;
let siteDir: string;
let lake: Awaited<ReturnType<typeof openLake>>;
const answered: { path: string; status: number; accepted: number }[] = [];

beforeAll(async () => {
  siteDir = mkdtempSync(join(tmpdir(), 'clickstream-shop-'));
  await build({ entryPoints: [new URL('./shop-page/shop-page.ts', import.meta.url).pathname], bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', outfile: join(siteDir, 'shop-page.js'), logLevel: 'warning' });
  copyFileSync(new URL('./shop-page/shop.html', import.meta.url), join(siteDir, 'shop.html'));
  shop = createServer((req, res) => {
    const file = req.url?.startsWith('/shop-page.js') ? 'shop-page.js' : 'shop.html';
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(readFileSync(join(siteDir, file)));
  });
  await new Promise<void>((resolve) => shop.listen(SHOP_PORT, '127.0.0.1', resolve));

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
  const page = await context.newPage();
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (!url.pathname.startsWith('/collect/') || response.request().method() === 'OPTIONS') return;
    void (async () => {
      const body = url.pathname === '/collect/i' ? { accepted: 1 } : ((await response.json().catch(() => ({ accepted: 0 }))) as { accepted: number });
      answered.push({ path: url.pathname, status: response.status(), accepted: body.accepted });
    })();
  });
  await page.goto(`http://127.0.0.1:${SHOP_PORT}/shop.html?run=${RUN}`);
  await page.evaluate((visit) => window.shop.visit(visit), { collector: `127.0.0.1:${config.dashboardPort}/collect`, run: RUN, price: PRICE });
  // The trackers send on their own schedule (Segment batches for 300 ms): wait until the collector acknowledged every row.
  const deadline = Date.now() + 30_000;
  while (answered.reduce((n, a) => n + a.accepted, 0) < EXPECTED_ROWS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await waitForConsumer(config);
  lake = await openLake(config);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => shop?.close(resolve));
  lake?.close();
  if (siteDir) rmSync(siteDir, { recursive: true, force: true });
});

describe('real trackers in Chromium against the local collector', () => {
  it('sends through the routes each tracker uses, every answer a 2xx', () => {
    expect(answered.reduce((n, a) => n + a.accepted, 0)).toBe(EXPECTED_ROWS);
    expect(answered.every((a) => a.status >= 200 && a.status < 300)).toBe(true);
    expect(new Set(answered.map((a) => a.path))).toEqual(new Set(['/collect/v1/b', '/collect/com.snowplowanalytics.snowplow/tp2', '/collect/i']));
  });

  it('lands exactly the visit in the lake, once each, from both trackers', async () => {
    const rows = await lake.query(`SELECT event_type, product_id, quantity, revenue, order_id, traffic_source, user_id, session_id, device_type, os, browser, user_country
      FROM events WHERE page_url LIKE '%run=${RUN}%' ORDER BY event_type, product_id`);
    const seg = (id: string) => `seg${id}-${RUN}`;
    expect(rows.map((r) => [r.event_type, r.product_id ?? null, r.quantity ?? null, r.revenue ?? null, r.order_id ?? null])).toEqual([
      ['add_to_cart', seg(''), 2, null, null],
      ['add_to_cart', `sp-${RUN}`, 1, null, null],
      ['checkout', null, null, null, null],
      ['page_view', null, null, null, null],
      ['page_view', null, null, null, null],
      ['page_view', null, null, null, null],
      ['product_view', seg(''), null, null, null],
      ['product_view', `sp-${RUN}`, null, null, null],
      ['purchase', seg(''), 2, PRICE * 2, `seg-order-${RUN}`],
      ['purchase', seg('2'), 1, 5, `seg-order-${RUN}`],
      ['purchase', `sp-${RUN}`, 1, PRICE, `sp-order-${RUN}`],
    ]);
    expect(rows.every((r) => r.traffic_source === 'direct')).toBe(true);
    // Enriched from the request: the browser's User-Agent; no country for a loopback address.
    for (const row of rows) expect(row).toMatchObject({ device_type: 'desktop', os: 'Linux', browser: 'Chrome', user_country: null });
    // Each tracker keeps one user and one visit across its events.
    expect(new Set(rows.map((r) => r.user_id)).size).toBeLessThanOrEqual(3);
  });

  it('shows the visit on the dashboard API: the products, their views, units and revenue', async () => {
    const range = new URLSearchParams({ from: String(Date.now() - 3_600_000), to: String(Date.now() + 900_000) });
    let rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 30 && !rows.some((r) => r.product_id === `sp-${RUN}`); i++) {
      rows = ((await (await fetch(`http://127.0.0.1:${config.dashboardPort}/api/query/top_products?${range.toString()}`)).json()) as { rows: Record<string, unknown>[] }).rows;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(rows.find((r) => r.product_id === `seg-${RUN}`)).toMatchObject({ product_category: `cat-${RUN}`, product_brand: 'Acme', views: 1, cart_adds: 1, units: 2, revenue: PRICE * 2 });
    expect(rows.find((r) => r.product_id === `sp-${RUN}`)).toMatchObject({ views: 1, cart_adds: 1, units: 1, revenue: PRICE });
  });
});
