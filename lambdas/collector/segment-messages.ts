/**
 * Segment's tracking API as analytics-next and Segment-compatible libraries
 * (RudderStack) send it: one message per request, or a batch `{ batch: [...], sentAt }`.
 * E-commerce events follow Segment's e-commerce spec v2 (and its v1 names).
 * docs/collector.md lists what is mapped and what is left out.
 */
import type { EventType } from '../common/event-enums.ts';
import { eventIdOf, uuidFromName } from './collected-ids.ts';
import { campaignOfUrl, type Campaign } from './traffic-source.ts';
import { clientOf, type ProductLine, type TrackedHit } from './tracked-hit.ts';
import { correctedTime, EnvelopeError, isObject, objectAt, utcDay, type Envelope } from './envelope.ts';

const TRACK_EVENTS: Readonly<Record<string, EventType>> = {
  'product viewed': 'product_view',
  'viewed product': 'product_view',
  'product added': 'add_to_cart',
  'added product': 'add_to_cart',
  'product removed': 'remove_from_cart',
  'removed product': 'remove_from_cart',
  'checkout started': 'checkout',
  'started checkout': 'checkout',
  'order completed': 'purchase',
  'completed order': 'purchase',
};

type Json = Record<string, unknown>;

/** The messages of a request body: the body itself, or its `batch`. */
export function segmentMessages(body: unknown): { messages: Json[]; sentAt: unknown } {
  if (!isObject(body)) throw new EnvelopeError('the body must be a JSON object: one Segment message, or { "batch": [...] }');
  if (!('batch' in body)) return { messages: [body], sentAt: body.sentAt };
  if (!Array.isArray(body.batch) || !body.batch.every(isObject)) throw new EnvelopeError('batch must be an array of Segment message objects');
  return { messages: body.batch, sentAt: body.sentAt };
}

/** The hits of Segment messages; messages that are not shop events (identify, other tracks) are counted as ignored. */
export function segmentHits(body: unknown, envelope: Envelope): { hits: TrackedHit[]; ignored: number } {
  const { messages, sentAt } = segmentMessages(body);
  const hits: TrackedHit[] = [];
  for (const message of messages) {
    const hit = segmentHit(message, sentAt, envelope);
    if (hit) hits.push(hit);
  }
  return { hits, ignored: messages.length - hits.length };
}

function segmentHit(message: Json, batchSentAt: unknown, envelope: Envelope): TrackedHit | undefined {
  const eventType = eventTypeOf(message);
  if (eventType === undefined) return undefined;
  const context = objectAt(message, 'context');
  const page = objectAt(context, 'page');
  const properties = objectAt(message, 'properties');
  const pageUrl = page.url ?? properties.url;
  const userId = message.userId ?? message.anonymousId;
  const eventTimeMs = correctedTime(message.timestamp ?? message.originalTimestamp, message.sentAt ?? batchSentAt, envelope.receivedAtMs);
  const messageId = typeof message.messageId === 'string' && message.messageId !== '' ? message.messageId : undefined;
  return {
    eventType,
    // Without a message id, the message itself names the event: an identical re-send gets the same id.
    eventId: messageId ? eventIdOf(messageId, `segment ${envelope.sourceKey}`) : uuidFromName(`segment ${JSON.stringify(message)}`),
    eventTimeMs,
    userId,
    // analytics-next has no session; RudderStack sends context.sessionId. Without one, a
    // shopper's day is their visit (docs/collector.md says why and what it changes).
    sessionId: context.sessionId ?? properties.session_id ?? (typeof userId === 'string' || typeof userId === 'number' ? `${String(userId)} ${utcDay(eventTimeMs)}` : undefined),
    pageUrl,
    referrer: page.referrer === '' ? null : page.referrer,
    campaign: campaignOf(objectAt(context, 'campaign'), pageUrl),
    products: eventType === 'purchase' ? orderLines(properties) : eventType === 'page_view' || eventType === 'checkout' ? [] : [line(properties)],
    orderId: properties.order_id ?? properties.checkout_id,
    client: clientOf(context.userAgent, context.ip),
  };
}

function eventTypeOf(message: Json): EventType | undefined {
  if (message.type === 'page') return 'page_view';
  if (message.type !== 'track' || typeof message.event !== 'string') return undefined;
  return TRACK_EVENTS[message.event.trim().toLowerCase()];
}

function orderLines(properties: Json): ProductLine[] {
  // An order without a product list is one line, if it names a product itself.
  if (!Array.isArray(properties.products)) return [line(properties)];
  return properties.products.filter(isObject).map(line);
}

function line(p: Json): ProductLine {
  return { id: p.product_id ?? p.sku ?? p.id, category: p.category, brand: p.brand, price: p.price, quantity: p.quantity };
}

function campaignOf(campaign: Json, pageUrl: unknown): Campaign {
  const fromUrl = campaignOfUrl(typeof pageUrl === 'string' ? pageUrl : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { source: str(campaign.source) ?? fromUrl.source, medium: str(campaign.medium) ?? fromUrl.medium, name: str(campaign.name) ?? fromUrl.name };
}
