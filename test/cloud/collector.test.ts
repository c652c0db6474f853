/**
 * The deployed collector: a Segment batch and a Snowplow pixel through its function URL
 * on LocalStack (the request shape Lambda's URL gives, not a hand-made event), into the
 * Kinesis stream, and through the consumer into the lake. CloudFront in front of it is
 * not emulated here; the stack test pins that behaviour.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cloud, listKeys, queryParquet, waitFor } from './aws.ts';

const collectorUrl = new URL(cloud.outputs.CollectorUrl!);
const endpoint = new URL(cloud.endpoint);

/** LocalStack routes a function URL by its host name; on a machine without its DNS, the name goes in the Host header. */
function call(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: endpoint.port, method, path, headers: { ...headers, host: collectorUrl.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the deployed collector (cloud)', () => {
  const run = randomUUID().slice(0, 8);
  const ids = { view: randomUUID(), order: randomUUID(), pixel: randomUUID() };

  it('acknowledges a Segment batch once Kinesis took it, and answers the Snowplow pixel with a GIF', async () => {
    const now = new Date().toISOString();
    const message = (id: string, event: string, properties: Record<string, unknown>) => ({
      type: 'track', event, properties, messageId: `ajs-next-1-${id}`, anonymousId: `anon-${run}`, timestamp: now, sentAt: now,
      context: { page: { url: `https://shop.test/p?run=${run}`, referrer: 'https://www.bing.com/' } },
    });
    const body = JSON.stringify({ writeKey: 'cloud-test', batch: [message(ids.view, 'Product Viewed', { product_id: `p-${run}`, price: 7 }), message(ids.order, 'Order Completed', { order_id: `o-${run}`, products: [{ product_id: `p-${run}`, price: 7, quantity: 3 }] })] });
    const batch = await call('POST', '/collect/v1/b', body, { 'content-type': 'text/plain', origin: 'https://shop.test', 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1' });
    expect(batch.status).toBe(200);
    expect(JSON.parse(batch.body)).toEqual({ accepted: 2, quarantined: 0, ignored: 0 });
    expect(batch.headers['access-control-allow-origin']).toBe('https://shop.test');

    const query = new URLSearchParams({ e: 'pv', eid: ids.pixel, url: `https://shop.test/?run=${run}`, duid: `du-${run}`, sid: `sid-${run}`, dtm: String(Date.now()), stm: String(Date.now()) });
    const pixel = await call('GET', `/collect/i?${query.toString()}`, undefined, { 'user-agent': 'Mozilla/5.0' });
    expect(pixel.status).toBe(200);
    expect(pixel.headers['content-type']).toBe('image/gif');
    expect(pixel.body.startsWith('GIF89a')).toBe(true);
  });

  it('lands the events in the lake through the stream and the consumer, once each', async () => {
    const hour = new Date().toISOString().slice(0, 13);
    const prefix = `events/year=${hour.slice(0, 4)}/month=${hour.slice(5, 7)}/day=${hour.slice(8, 10)}/hour=${hour.slice(11, 13)}/`;
    const rows = await waitFor(`the collected events under s3://…/${prefix}`, async () => {
      const keys = await listKeys(prefix);
      const found = keys.length > 0 ? await queryParquet(keys, `SELECT event_id, event_type, traffic_source, revenue, product_id FROM events WHERE page_url LIKE '%run=${run}%' ORDER BY event_type`) : [];
      return found.length >= 3 ? found : undefined;
    });
    expect(rows).toEqual([
      { event_id: ids.pixel, event_type: 'page_view', traffic_source: 'direct', revenue: null, product_id: null },
      { event_id: ids.view, event_type: 'product_view', traffic_source: 'organic_search', revenue: null, product_id: `p-${run}` },
      { event_id: ids.order, event_type: 'purchase', traffic_source: 'organic_search', revenue: 21, product_id: `p-${run}` },
    ]);
  });
});
