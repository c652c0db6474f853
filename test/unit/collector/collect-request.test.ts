import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Collector, MAX_BODY_BYTES, type CollectRequest } from '../../../lambdas/collector/collect-request.ts';
import type { ClientFacts } from '../../../lambdas/collector/enrich-client.ts';
import type { OutgoingRecord } from '../../../lambdas/common/event-producer.ts';
import { StreamThrottled } from '../../../lambdas/ingest/stream-throttled.ts';
import { validateEvent } from '../../../lambdas/common/validate-event.ts';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const FACTS: ClientFacts = { device_type: 'desktop', os: 'Linux', browser: 'Chrome', user_country: 'DE' };
const ORIGIN = 'http://shop.test:8080';

type Row = Record<string, unknown>;

function collector(send: (records: readonly OutgoingRecord[]) => Promise<void> = async () => {}) {
  const sent: Row[] = [];
  const c = new Collector({
    send: async (records) => {
      await send(records);
      sent.push(...records.map((r) => JSON.parse(r.value.toString()) as Row));
    },
    enricher: { facts: () => FACTS },
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    c.handle(request({ method: 'POST', path, body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), headers: { 'content-type': 'text/plain', origin: ORIGIN, ...headers } }));
  return { c, sent, post };
}

const errorOf = (res: { body: string | Buffer }) => (JSON.parse(String(res.body)) as { error: string }).error;

function request(r: Partial<CollectRequest>): CollectRequest {
  return { method: 'POST', path: '/', query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0), clientIp: '127.0.0.1', receivedAtMs: NOW, ...r };
}

const page = { url: 'https://shop.test/p/1?utm_campaign=spring', referrer: 'https://www.google.com/', path: '/p/1', title: 'P1', search: '?utm_campaign=spring' };
const segment = (event: Row) => ({
  messageId: 'ajs-next-1764763200000-0b6ea1e1-77f3-4bd3-9d5e-1a8c4c0a9f11',
  anonymousId: 'anon-1',
  userId: null,
  timestamp: new Date(NOW - 60_000).toISOString(),
  sentAt: new Date(NOW - 59_000).toISOString(),
  context: { page, userAgent: 'ua' },
  writeKey: 'key-1',
  ...event,
});

describe('Collector: Segment', () => {
  it('maps a product addition to one add_to_cart event with the tracker id, corrected time and the request facts', async () => {
    const { sent, post } = collector();
    const res = await post('/v1/t', segment({ type: 'track', event: 'Product Added', properties: { product_id: 'p-1', price: 19.5, category: 'Games', brand: 'Hasbro' } }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({ accepted: 1, quarantined: 0, ignored: 0 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      schema_version: 2,
      event_id: '0b6ea1e1-77f3-4bd3-9d5e-1a8c4c0a9f11',
      event_type: 'add_to_cart',
      // Sent 1 s after it happened by the tracker's clock (which is a minute slow): 1 s before receipt on ours.
      event_time: NOW - 1_000,
      user_id: 'anon-1',
      page_url: 'https://shop.test/p/1?utm_campaign=spring',
      referrer: 'https://www.google.com/',
      traffic_source: 'organic_search',
      campaign: 'spring',
      product_id: 'p-1',
      product_price: 19.5,
      quantity: 1,
      user_age: null,
      user_gender: null,
      ...FACTS,
    });
    expect(validateEvent(sent[0]).ok).toBe(true);
  });

  it('splits an order into one purchase row per product, with stable distinct ids and line revenue', async () => {
    const { sent, post } = collector();
    const order = segment({
      type: 'track',
      event: 'Order Completed',
      userId: 'shopper@example.com',
      properties: { order_id: 'o/17', products: [{ product_id: 'p-1', price: 10, quantity: 2 }, { sku: 'SKU 2', price: 3.333, quantity: 3, brand: 'B' }] },
    });
    await post('/v1/b', { batch: [order], sentAt: order.sentAt, writeKey: 'key-1' });
    await post('/v1/b', { batch: [order], sentAt: order.sentAt, writeKey: 'key-1' });
    expect(sent.map((e) => e.event_type)).toEqual(['purchase', 'purchase', 'purchase', 'purchase']);
    expect(new Set(sent.map((e) => e.event_id)).size).toBe(2);
    expect(sent.slice(0, 2)).toEqual(sent.slice(2));
    expect(sent.map((e) => e.revenue)).toEqual([20, 10, 20, 10]);
    // An e-mail address as the user id, a slash in the order id: stable opaque ids, never the raw text.
    expect(sent[0]!.user_id).toMatch(/^h_[A-Za-z0-9_-]{22}$/);
    expect(sent[0]!.order_id).toMatch(/^h_/);
    expect(sent[1]).toMatchObject({ product_id: expect.stringMatching(/^h_/) as unknown, product_brand: 'B', product_category: null });
    for (const e of sent) expect(validateEvent(e).ok).toBe(true);
  });

  it('ignores what is not a shop event, and answers the metrics route without sending', async () => {
    const { sent, post } = collector();
    const res = await post('/v1/b', { batch: [segment({ type: 'identify', traits: { email: 'x' } }), segment({ type: 'track', event: 'Newsletter Signup' }), segment({ type: 'page' })] });
    expect(JSON.parse(String(res.body))).toEqual({ accepted: 1, quarantined: 0, ignored: 2 });
    expect(sent.map((e) => e.event_type)).toEqual(['page_view']);
    expect((await post('/v1/m', { series: [] })).statusCode).toBe(204);
  });

  it('keeps a visit under the channel it arrived by', async () => {
    const { sent, post } = collector();
    await post('/v1/p', segment({ type: 'page', messageId: 'm-1' }));
    const internal = { ...page, url: 'https://shop.test/p/2', referrer: 'https://shop.test/p/1' };
    await post('/v1/p', segment({ type: 'page', messageId: 'm-2', context: { page: internal } }));
    expect(sent.map((e) => [e.traffic_source, e.campaign])).toEqual([
      ['organic_search', 'spring'],
      ['organic_search', 'spring'],
    ]);
    expect(sent[0]!.session_id).toBe(sent[1]!.session_id);
  });

  it("takes the client's facts from the User-Agent and address a forwarding server names, once per distinct client", async () => {
    const asked: { userAgent?: string; ip?: string }[] = [];
    const sent: Row[] = [];
    const c = new Collector({
      send: (records) => Promise.resolve(void sent.push(...records.map((r) => JSON.parse(r.value.toString()) as Row))),
      enricher: {
        facts: (hints) => {
          asked.push({ userAgent: hints.userAgent, ip: hints.ip });
          return { ...FACTS, device_type: hints.userAgent?.includes('Chrome') ? 'desktop' : 'bot' };
        },
      },
    });
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0';
    const forwarded = (id: string) => segment({ type: 'page', messageId: id, context: { page, userAgent: chrome, ip: '198.51.100.4' } });
    const body = Buffer.from(JSON.stringify({ batch: [forwarded('f-1'), forwarded('f-2'), segment({ type: 'page', messageId: 'f-3', context: { page } })] }));
    await c.handle(request({ path: '/v1/batch', body, headers: { 'content-type': 'application/json', 'user-agent': 'analytics-node-next/1.0' } }));
    expect(sent.map((e) => e.device_type)).toEqual(['desktop', 'desktop', 'bot']);
    expect(asked).toEqual([
      { userAgent: chrome, ip: '198.51.100.4' },
      { userAgent: 'analytics-node-next/1.0', ip: '127.0.0.1' },
    ]);
  });

  it('sends what fails the schema on to quarantine, and counts it', async () => {
    const { sent, post } = collector();
    const res = await post('/v1/t', segment({ type: 'track', event: 'Product Viewed', properties: { product_id: 'p-1' } }));
    expect(JSON.parse(String(res.body))).toEqual({ accepted: 0, quarantined: 1, ignored: 0 });
    expect(sent).toHaveLength(1);
    expect(validateEvent(sent[0]).ok).toBe(false);
  });
});

describe('Collector: Snowplow', () => {
  const ecommerce = (type: string, entities: Row[]) => ({
    ue_pr: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2', data: { type } } }),
    co: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: entities }),
  });
  const product = (data: Row) => ({ schema: 'iglu:com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0', data });
  const base = (e: string, eid: string) => ({ e, eid, dtm: String(NOW - 5_000), stm: String(NOW - 4_000), duid: 'du-1', sid: '7d9b5f3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f', url: 'https://shop.test/?utm_medium=email', aid: 'shop', tv: 'js-4.10.1' });

  it('maps a tp2 POST: a page view and a transaction with two products', async () => {
    const { sent, post } = collector();
    const body = {
      schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
      data: [
        base('pv', 'a0000000-0000-4000-8000-000000000001'),
        {
          ...base('ue', 'a0000000-0000-4000-8000-000000000002'),
          ...ecommerce('transaction', [
            product({ id: 'p-1', name: 'n', category: 'Games', price: 5, quantity: 2, currency: 'EUR' }),
            product({ id: 'p-2', name: 'n', category: 'Toys', price: 1.5, currency: 'EUR' }),
            { schema: 'iglu:com.snowplowanalytics.snowplow.ecommerce/transaction/jsonschema/1-0-0', data: { transaction_id: 'T-9', revenue: 11.5, currency: 'EUR', payment_method: 'card' } },
          ]),
        },
        { ...base('pp', 'a0000000-0000-4000-8000-000000000003') },
      ],
    };
    const res = await post('/com.snowplowanalytics.snowplow/tp2', body, { 'content-type': 'application/json; charset=UTF-8' });
    expect(JSON.parse(String(res.body))).toEqual({ accepted: 3, quarantined: 0, ignored: 1 });
    expect(sent.map((e) => [e.event_type, e.product_id ?? null, e.revenue ?? null, e.order_id ?? null])).toEqual([
      ['page_view', null, null, null],
      ['purchase', 'p-1', 10, 'T-9'],
      ['purchase', 'p-2', 1.5, 'T-9'],
    ]);
    expect(sent[0]).toMatchObject({ event_id: 'a0000000-0000-4000-8000-000000000001', event_time: NOW - 1_000, user_id: 'du-1', traffic_source: 'email', referrer: null });
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': ORIGIN, 'access-control-allow-credentials': 'true' });
  });

  it('maps a GET /i pixel with base64url entities and answers a GIF', async () => {
    const { c, sent } = collector();
    const hit = ecommerce('add_to_cart', [product({ id: 'p-3', category: 'Books', price: '12.00', quantity: '1', brand: 'Acme' })]);
    const query = new URLSearchParams({ ...base('ue', 'a0000000-0000-4000-8000-000000000004'), ue_px: Buffer.from(hit.ue_pr).toString('base64url'), cx: Buffer.from(hit.co).toString('base64url') });
    const res = await c.handle(request({ method: 'GET', path: '/i', query, headers: { origin: ORIGIN } }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/gif');
    expect(sent).toEqual([expect.objectContaining({ event_type: 'add_to_cart', product_id: 'p-3', product_price: 12, quantity: 1, product_brand: 'Acme' })]);
  });
});

describe('Collector: own events', () => {
  const event = {
    schema_version: 2,
    event_id: 'b0000000-0000-4000-8000-000000000001',
    event_type: 'page_view',
    event_time: NOW - 1_000,
    user_id: 'u-1',
    session_id: 's-1',
    page_url: 'https://shop.test/',
    referrer: null,
    traffic_source: 'direct',
    campaign: null,
  };

  it('accepts one event or an array, gzip or not, filling what the event leaves unknown from the request', async () => {
    const { sent, post } = collector();
    expect((await post('/events', event, { 'content-type': 'application/json' })).statusCode).toBe(200);
    expect((await post('/events', gzipSync(JSON.stringify([event, { ...event, event_id: 'b0000000-0000-4000-8000-000000000002', device_type: 'tablet' }])), { 'content-encoding': 'gzip' })).statusCode).toBe(200);
    expect(sent.map((e) => [e.device_type, e.user_country])).toEqual([
      ['desktop', 'DE'],
      ['desktop', 'DE'],
      ['tablet', 'DE'],
    ]);
  });

  it('refuses a request with a bad event whole, naming it, and sends nothing of it', async () => {
    const { sent, post } = collector();
    const res = await post('/events', [event, { ...event, event_type: 'click' }]);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatch(/^event 1: event_type must be equal to one of the allowed values/);
    expect(sent).toEqual([]);
  });
});

describe('Collector: bad input gets a clear answer and sends nothing', () => {
  const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
  it.each([
    ['malformed JSON', '/v1/t', '{"type":', {}, 400, /not valid JSON/],
    ['a Segment body that is an array', '/v1/t', '[1,2]', {}, 400, /must be a JSON object/],
    ['a batch that is not an array', '/v1/b', '{"batch":{}}', {}, 400, /batch must be an array/],
    ['a Snowplow body without the envelope', '/com.snowplowanalytics.snowplow/tp2', '{"data":[]}', {}, 400, /payload_data envelope/],
    ['bad base64 in a Snowplow entity', '/com.snowplowanalytics.snowplow/tp2', JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'ue', ue_px: '!!!' }] }), {}, 400, /not valid base64url/],
    ['plain JSON that is not JSON in a Snowplow entity', '/com.snowplowanalytics.snowplow/tp2', JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'ue', ue_pr: '{' }] }), {}, 400, /ue is not valid JSON/],
    ['a form post', '/v1/t', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415, /content type application\/x-www-form-urlencoded is not accepted/],
    ['an unknown encoding', '/v1/t', '{}', { 'content-encoding': 'br' }, 415, /content encoding br is not accepted/],
    ['a body that is not gzip', '/v1/t', '{}', { 'content-encoding': 'gzip' }, 400, /not valid gzip/],
    ['a body over the limit', '/v1/b', Buffer.alloc(MAX_BODY_BYTES + 1, 0x20), {}, 413, /over the 524288-byte limit/],
    ['a gzip bomb', '/v1/b', bomb, { 'content-encoding': 'gzip' }, 413, /inflates past/],
    ['an empty own batch', '/events', '[]', {}, 400, /empty array/],
    ['an unknown route', '/wp-admin', '{}', {}, 404, /no collector route \/wp-admin/],
  ])('%s', async (_name, path, body, headers, status, message) => {
    const { sent, post } = collector();
    const res = await post(path, body, headers);
    expect(res.statusCode).toBe(status);
    expect(errorOf(res)).toMatch(message);
    // Errors carry CORS headers too, or a tracker sees a network error and retries instead of dropping.
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(sent).toEqual([]);
  });

  it('refuses the wrong method', async () => {
    const { c } = collector();
    const res = await c.handle(request({ method: 'GET', path: '/v1/b' }));
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST, OPTIONS');
    expect((await c.handle(request({ method: 'DELETE', path: '/i' }))).statusCode).toBe(405);
  });

  it.each([
    ['throttled', new StreamThrottled('ProvisionedThroughputExceeded'), 429, '1'],
    ['down', new Error('connect ECONNREFUSED'), 503, '5'],
  ])('answers %s when the stream does not acknowledge, so trackers keep the events and retry', async (_name, failure, status, wait) => {
    const { post } = collector(() => Promise.reject(failure));
    const res = await post('/v1/p', segment({ type: 'page' }));
    expect(res.statusCode).toBe(status);
    expect(res.headers).toMatchObject({ 'retry-after': wait, 'x-ratelimit-reset': wait, 'access-control-expose-headers': 'Retry-After, X-RateLimit-Reset' });
  });

  it('answers a preflight with the origin, credentials and the headers asked for', async () => {
    const { c } = collector();
    const res = await c.handle(request({ method: 'OPTIONS', path: '/v1/b', headers: { origin: ORIGIN, 'access-control-request-headers': 'authorization,content-type,x-retry-count' } }));
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({ 'access-control-allow-origin': ORIGIN, 'access-control-allow-credentials': 'true', 'access-control-allow-headers': 'authorization,content-type,x-retry-count' });
    const odd = await c.handle(request({ method: 'OPTIONS', path: '/v1/b', headers: { origin: 'x\r\nSet-Cookie: a=b', 'access-control-request-headers': 'x\r\ny' } }));
    expect(odd.headers['access-control-allow-origin']).toBe('*');
    expect(odd.headers['access-control-allow-headers']).not.toMatch(/\r|\n/);
  });
});
