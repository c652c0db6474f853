/// <reference lib="dom" />
/**
 * A shop's page for the collector test: the real @segment/analytics-next and
 * @snowplow/browser-tracker (with its e-commerce plugin) from npm, bundled by esbuild,
 * configured the way docs/collector.md tells a shop to point them at the collector.
 * The test calls `window.shop.visit(...)` and waits for the trackers' requests.
 */
import { AnalyticsBrowser } from '@segment/analytics-next';
import { SnowplowEcommercePlugin, trackAddToCart, trackProductView, trackTransaction } from '@snowplow/browser-plugin-snowplow-ecommerce';
import { newTracker, trackPageView } from '@snowplow/browser-tracker';

export interface Visit {
  /** host:port/collect of the collector. */
  readonly collector: string;
  readonly run: string;
  readonly price: number;
}

async function segmentVisit({ collector, run, price }: Visit): Promise<void> {
  const apiHost = `${collector}/v1`;
  // cdnSettings given: the tracker fetches no settings from Segment's CDN; metrics off (no /m every 30 s).
  const [analytics] = await AnalyticsBrowser.load(
    { writeKey: 'shop-test', cdnSettings: { integrations: { 'Segment.io': { apiKey: 'shop-test', apiHost, protocol: 'http' } }, metrics: { sampleRate: 0 } } },
    { integrations: { 'Segment.io': { apiHost, protocol: 'http', deliveryStrategy: { strategy: 'batching', config: { size: 4, timeout: 300 } } } }, disableClientPersistence: true },
  );
  const product = { product_id: `seg-${run}`, sku: `seg-${run}`, category: `cat-${run}`, brand: 'Acme', price };
  await analytics.page();
  await analytics.track('Product Viewed', product);
  await analytics.track('Product Added', { ...product, quantity: 2 });
  await analytics.track('Checkout Started', { order_id: `seg-order-${run}`, products: [{ ...product, quantity: 2 }] });
  await analytics.track('Order Completed', { order_id: `seg-order-${run}`, revenue: price * 2 + 5, currency: 'USD', products: [{ ...product, quantity: 2 }, { product_id: `seg2-${run}`, category: `cat-${run}`, price: 5, quantity: 1 }] });
}

function snowplowVisit({ collector, run, price }: Visit): void {
  const endpoint = `http://${collector}`;
  // On a plain-http test page a Secure cookie would not be kept: the shop's own pages are https.
  newTracker('post', endpoint, { appId: 'shop-test', eventMethod: 'post', bufferSize: 1, cookieSecure: false, plugins: [SnowplowEcommercePlugin()] });
  newTracker('get', endpoint, { appId: 'shop-test', eventMethod: 'get', bufferSize: 1, cookieSecure: false, cookieName: '_sp_get_' });
  const product = { id: `sp-${run}`, name: 'Snowplow product', category: `cat-${run}`, brand: 'Acme', price, currency: 'USD' };
  trackPageView({}, ['post']);
  trackPageView({}, ['get']);
  trackProductView(product, ['post']);
  trackAddToCart({ products: [{ ...product, quantity: 1 }], total_value: price, currency: 'USD' }, ['post']);
  trackTransaction({ transaction_id: `sp-order-${run}`, revenue: price, currency: 'USD', payment_method: 'card', products: [{ ...product, quantity: 1 }] }, ['post']);
}

declare global {
  interface Window {
    shop: { visit(visit: Visit): Promise<void> };
  }
}

window.shop = {
  async visit(visit) {
    snowplowVisit(visit);
    await segmentVisit(visit);
  },
};
