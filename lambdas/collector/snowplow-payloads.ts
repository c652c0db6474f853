/**
 * Snowplow's tracker protocol as @snowplow/browser-tracker (v3 and v4) sends it: a
 * `payload_data` envelope POSTed to `/com.snowplowanalytics.snowplow/tp2`, or one
 * payload as the query of `GET /i`. Shop events come from the Snowplow e-commerce
 * plugin: a `snowplow_ecommerce_action` self-describing event with `product`,
 * `transaction` and `checkout_step` entities. docs/collector.md lists the mapping.
 */
import type { EventType } from '../common/event-enums.ts';
import { eventIdOf, uuidFromName } from './collected-ids.ts';
import { correctedTime, EnvelopeError, isObject, timeMs, type Envelope } from './envelope.ts';
import { campaignOfUrl } from './traffic-source.ts';
import { clientOf, type ProductLine, type TrackedHit } from './tracked-hit.ts';

type Payload = Record<string, unknown>;
interface Entity {
  readonly schema: string;
  readonly data: Record<string, unknown>;
}

const ECOMMERCE = 'iglu:com.snowplowanalytics.snowplow.ecommerce/';
const ACTIONS: Readonly<Record<string, EventType>> = {
  product_view: 'product_view',
  add_to_cart: 'add_to_cart',
  remove_from_cart: 'remove_from_cart',
  transaction: 'purchase',
};

/** The payloads of a tp2 POST body. */
export function snowplowPayloads(body: unknown): Payload[] {
  if (!isObject(body) || typeof body.schema !== 'string' || !body.schema.startsWith('iglu:com.snowplowanalytics.snowplow/payload_data/')) {
    throw new EnvelopeError('the body must be a Snowplow payload_data envelope: { "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/...", "data": [...] }');
  }
  if (!Array.isArray(body.data) || !body.data.every(isObject)) throw new EnvelopeError('data must be an array of Snowplow payload objects');
  return body.data;
}

/** The hits of Snowplow payloads; page pings, structured events and other actions are counted as ignored. */
export function snowplowHits(payloads: readonly Payload[], envelope: Envelope): { hits: TrackedHit[]; ignored: number } {
  const hits = payloads.map((p, i) => snowplowHit(p, i, envelope)).filter((h) => h !== undefined);
  return { hits, ignored: payloads.length - hits.length };
}

function snowplowHit(payload: Payload, index: number, envelope: Envelope): TrackedHit | undefined {
  const shop = payload.e === 'pv' ? { eventType: 'page_view' as const, products: [] } : payload.e === 'ue' ? ecommerceAction(payload, index) : undefined;
  if (!shop) return undefined;
  const eid = typeof payload.eid === 'string' && payload.eid !== '' ? payload.eid : undefined;
  const pageUrl = typeof payload.url === 'string' ? payload.url : undefined;
  return {
    ...shop,
    eventId: eid ? eventIdOf(eid, `snowplow ${envelope.sourceKey}`) : uuidFromName(`snowplow ${JSON.stringify(payload)}`),
    // A "true timestamp" (ttm) is the caller's own clock of record; otherwise the device's, corrected with its send time.
    eventTimeMs: payload.ttm !== undefined && !Number.isNaN(timeMs(payload.ttm)) ? Math.min(timeMs(payload.ttm), envelope.receivedAtMs) : correctedTime(payload.dtm, payload.stm, envelope.receivedAtMs),
    userId: payload.uid ?? payload.duid,
    sessionId: payload.sid,
    pageUrl,
    referrer: payload.refr ?? null,
    campaign: campaignOfUrl(pageUrl),
    // Server-side trackers set ua and ip; the browser tracker leaves them to the request.
    client: clientOf(payload.ua, payload.ip),
  };
}

function ecommerceAction(payload: Payload, index: number): Pick<TrackedHit, 'eventType' | 'products' | 'orderId'> | undefined {
  const event = selfDescribing(payload.ue_pr, payload.ue_px, `payload ${index}: ue`);
  const inner = event && isObject(event.data) ? (event.data as unknown as Entity) : undefined;
  if (!inner || typeof inner.schema !== 'string' || !inner.schema.startsWith(`${ECOMMERCE}snowplow_ecommerce_action/`) || !isObject(inner.data)) return undefined;
  const entities = contexts(payload, index);
  const of = (name: string) => entities.filter((e) => e.schema.startsWith(`${ECOMMERCE}${name}/`)).map((e) => e.data);
  const action = inner.data.type;
  if (action === 'checkout_step') {
    // The first step is the start of checkout, as Segment's "Checkout Started"; later steps are not counted again.
    return Number(of('checkout_step')[0]?.step) === 1 ? { eventType: 'checkout', products: [] } : undefined;
  }
  const eventType = typeof action === 'string' ? ACTIONS[action] : undefined;
  if (!eventType) return undefined;
  const products = of('product').map(line);
  return { eventType, products: eventType === 'product_view' ? products.slice(0, 1) : products, orderId: of('transaction')[0]?.transaction_id };
}

function line(p: Record<string, unknown>): ProductLine {
  return { id: p.id, category: p.category, brand: p.brand, price: p.price, quantity: p.quantity };
}

function contexts(payload: Payload, index: number): Entity[] {
  const wrapper = selfDescribing(payload.co, payload.cx, `payload ${index}: co`);
  if (!wrapper || !Array.isArray(wrapper.data)) return [];
  return wrapper.data.filter((e): e is Entity => isObject(e) && typeof e.schema === 'string' && isObject(e.data));
}

/** A self-describing JSON sent plain (POST) or as unpadded base64url (GET); undefined when absent. */
function selfDescribing(plain: unknown, encoded: unknown, what: string): Record<string, unknown> | undefined {
  if (plain === undefined && encoded === undefined) return undefined;
  const text = typeof plain === 'string' ? plain : typeof encoded === 'string' ? decodeBase64Url(encoded, what) : undefined;
  if (text === undefined) throw new EnvelopeError(`${what} must be a string of JSON`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EnvelopeError(`${what} is not valid JSON`);
  }
  if (!isObject(value)) throw new EnvelopeError(`${what} must be a self-describing JSON object`);
  return value;
}

function decodeBase64Url(value: string, what: string): string {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(value) || value.replace(/=+$/, '').length % 4 === 1) throw new EnvelopeError(`${what} is not valid base64url`);
  return Buffer.from(value, 'base64url').toString('utf8');
}
