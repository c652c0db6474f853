/**
 * The collector: one HTTP request from a tracker in, events to the stream, one answer
 * out. Pure apart from the ingest it is given, so the Lambda and the local server run
 * the same code (they only translate their own request and response types).
 *
 * Routes (under the deployment's `/collect` prefix), what sends them, and the status
 * codes each tracker acts on, are in docs/collector.md. In short: 2xx only once the
 * stream acknowledged every event; 400 when the request cannot be read (trackers drop
 * it, as they should); 413 over the size limit; 415 for a body type no tracker sends;
 * 429 or 503 when the stream cannot take it now (trackers keep it and retry).
 */
import { gunzipSync } from 'node:zlib';
import { validateEvent } from '../common/validate-event.ts';
import type { ClientEnricher, ClientFacts } from './enrich-client.ts';
import { EnvelopeError, isObject, type Envelope } from './envelope.ts';
import { StreamThrottled } from '../ingest/stream-throttled.ts';
import type { OutgoingRecord } from '../common/event-producer.ts';
import { ownEvents } from './own-events.ts';
import { segmentHits } from './segment-messages.ts';
import { SessionChannels } from './session-channels.ts';
import { snowplowHits, snowplowPayloads } from './snowplow-payloads.ts';
import { eventsOfHit, type EventDraft, type TrackedHit } from './tracked-hit.ts';

export interface CollectRequest {
  readonly method: string;
  /** The path below the collector's prefix, e.g. `/v1/b`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** The client's address, for the country; never stored. */
  readonly clientIp?: string | undefined;
  readonly receivedAtMs: number;
}

export interface CollectResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}

/** Sends to the stream the consumer reads; resolves once it acknowledged every record (then the collector answers 2xx). */
export type IngestSend = (records: readonly OutgoingRecord[]) => Promise<void>;

export interface CollectorOptions {
  readonly send: IngestSend;
  readonly enricher: ClientEnricher;
  readonly channels?: SessionChannels;
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** Segment's batches go up to 500 KB; a tracker never sends more in one request. */
export const MAX_BODY_BYTES = 512 * 1024;
/** A gzip body may not expand past this (a small body that inflates to gigabytes is an attack). */
export const MAX_INFLATED_BYTES = 2 * 1024 * 1024;

type Protocol = 'segment' | 'snowplow' | 'snowplow-get' | 'own' | 'metrics';

const SEGMENT_TYPES: Readonly<Record<string, string>> = { t: 'track', p: 'page', i: 'identify', g: 'group', a: 'alias', s: 'screen' };

interface Route {
  readonly protocol: Protocol;
  readonly method: 'GET' | 'POST';
  /** On Segment's single-message routes, the message type the path names. */
  readonly segmentType?: string;
}

function routeOf(path: string): Route | undefined {
  if (path === '/i') return { protocol: 'snowplow-get', method: 'GET' };
  if (path === '/com.snowplowanalytics.snowplow/tp2') return { protocol: 'snowplow', method: 'POST' };
  if (path === '/events') return { protocol: 'own', method: 'POST' };
  if (path === '/v1/m' || path === '/rsaMetrics') return { protocol: 'metrics', method: 'POST' };
  if (path === '/v1/b' || path === '/v1/batch' || path === '/beacon/v1/batch') return { protocol: 'segment', method: 'POST' };
  const single = /^\/v1\/([a-z]+)$/.exec(path)?.[1];
  if (single === undefined) return undefined;
  const type = SEGMENT_TYPES[single] ?? (Object.values(SEGMENT_TYPES).includes(single) ? single : undefined);
  return type ? { protocol: 'segment', method: 'POST', segmentType: type } : undefined;
}

export class Collector {
  private readonly channels: SessionChannels;

  constructor(private readonly options: CollectorOptions) {
    this.channels = options.channels ?? new SessionChannels();
  }

  async handle(request: CollectRequest): Promise<CollectResponse> {
    const cors = corsHeaders(request.headers.origin);
    if (request.method === 'OPTIONS') return { statusCode: 204, headers: { ...cors, ...preflightHeaders(request.headers) }, body: '' };
    const route = routeOf(request.path);
    if (!route) {
      return error(404, cors, `no collector route ${request.path.slice(0, 80)}: use /events, /v1/<t|p|b|batch|...> (Segment) or /com.snowplowanalytics.snowplow/tp2 and /i (Snowplow)`);
    }
    if (request.method !== route.method) return error(405, { ...cors, allow: `${route.method}, OPTIONS` }, `${request.method.slice(0, 10)} is not accepted on ${request.path}: use ${route.method}`);
    if (route.protocol === 'metrics') return { statusCode: 204, headers: cors, body: '' };
    try {
      const { drafts, ignored } = this.read(request, route);
      const { valid, invalid } = splitValid(drafts);
      // Every draft goes to the stream: the consumer quarantines the invalid ones with their reason, counted and visible.
      await this.options.send([...valid, ...invalid].map(toRecord));
      if (invalid.length > 0) this.options.log?.({ level: 'WARN', message: 'collected events failed the schema', count: invalid.length, reason: firstReason(invalid) });
      if (route.protocol === 'snowplow-get') return { statusCode: 200, headers: { ...cors, 'content-type': 'image/gif', 'cache-control': 'no-cache, no-store, must-revalidate' }, body: PIXEL };
      return json(200, cors, { accepted: valid.length, quarantined: invalid.length, ignored });
    } catch (e) {
      if (e instanceof RequestError) return error(e.status, cors, e.message);
      if (e instanceof EnvelopeError) return error(400, cors, e.message);
      const throttled = e instanceof StreamThrottled;
      this.options.log?.({ level: 'WARN', message: 'the stream did not take the events', throttled, error: (e as Error).message });
      const wait = throttled ? '1' : '5';
      return error(throttled ? 429 : 503, { ...cors, 'retry-after': wait, 'x-ratelimit-reset': wait }, 'the event stream cannot take events right now: retry later');
    }
  }

  private read(request: CollectRequest, route: Route): { drafts: EventDraft[]; ignored: number } {
    const facts = this.factsOf(request);
    if (route.protocol === 'snowplow-get') {
      const payload = Object.fromEntries(request.query);
      return this.fromHits(snowplowHits([payload], envelopeOf(request, '')), facts);
    }
    const body = parseBody(request);
    if (route.protocol === 'own') return { drafts: ownEvents(body, facts()), ignored: 0 };
    if (route.protocol === 'snowplow') return this.fromHits(snowplowHits(snowplowPayloads(body), envelopeOf(request, '')), facts);
    const message = route.segmentType && isObject(body) && body.type === undefined ? { ...body, type: route.segmentType } : body;
    return this.fromHits(segmentHits(message, envelopeOf(request, writeKeyOf(request, body))), facts);
  }

  /**
   * The client facts for a message: from the User-Agent and address the message itself names
   * (a shop's server forwarding its shoppers' events sends theirs; in a browser they equal the
   * request's), else the request's. Each distinct pair is looked up once per request.
   */
  private factsOf(request: CollectRequest): (client?: TrackedHit['client']) => ClientFacts {
    const known = new Map<string, ClientFacts>();
    // Snowplow's "anonymous tracking" asks the collector not to use the address.
    const anonymousIp = request.headers['sp-anonymous'] !== undefined;
    return (client) => {
      const userAgent = client?.userAgent ?? request.headers['user-agent'];
      const ip = client?.ip ?? request.clientIp;
      const key = `${userAgent ?? ''}\n${ip ?? ''}`;
      let facts = known.get(key);
      if (!facts) known.set(key, (facts = this.options.enricher.facts({ userAgent, ip, anonymousIp })));
      return facts;
    };
  }

  private fromHits({ hits, ignored }: { hits: TrackedHit[]; ignored: number }, facts: (client?: TrackedHit['client']) => ClientFacts): { drafts: EventDraft[]; ignored: number } {
    return { drafts: hits.flatMap((hit) => eventsOfHit(hit, facts(hit.client), this.channels)), ignored };
  }
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseBody(request: CollectRequest): unknown {
  if (request.body.byteLength > MAX_BODY_BYTES) throw new RequestError(413, `the body is ${request.body.byteLength} bytes, over the ${MAX_BODY_BYTES}-byte limit: send fewer events per request`);
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  // Trackers send JSON as text/plain (Segment, beacons: no preflight) or application/json (Snowplow, RudderStack).
  if (type !== '' && type !== 'text/plain' && type !== 'application/json') {
    throw new RequestError(415, `content type ${type.slice(0, 60)} is not accepted: send JSON as application/json or text/plain`);
  }
  const text = inflate(request.body, request.headers['content-encoding']).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new EnvelopeError('the body is not valid JSON');
  }
}

function inflate(body: Buffer, encoding: string | undefined): Buffer {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity') return body;
  if (name !== 'gzip') throw new RequestError(415, `content encoding ${name.slice(0, 40)} is not accepted: send gzip or no encoding`);
  try {
    return gunzipSync(body, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new RequestError(413, `the body inflates past ${MAX_INFLATED_BYTES} bytes: send fewer events per request`);
    throw new EnvelopeError('the body is not valid gzip');
  }
}

/** Segment's write key: the Basic user name (analytics-next 1.84), else the body's, else the beacon's query. */
function writeKeyOf(request: CollectRequest, body: unknown): string {
  const basic = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const fromHeader = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[0] : undefined;
  const fromBody = isObject(body) && typeof body.writeKey === 'string' ? body.writeKey : undefined;
  return (fromHeader || fromBody || request.query.get('writeKey') || '').slice(0, 128);
}

function envelopeOf(request: CollectRequest, sourceKey: string): Envelope {
  return { receivedAtMs: request.receivedAtMs, sourceKey };
}

function splitValid(drafts: EventDraft[]): { valid: EventDraft[]; invalid: (EventDraft & { readonly [REASON]: string })[] } {
  const valid: EventDraft[] = [];
  const invalid: (EventDraft & { [REASON]: string })[] = [];
  for (const draft of drafts) {
    const result = validateEvent(draft);
    if (result.ok) valid.push(draft);
    else invalid.push(Object.assign(draft, { [REASON]: result.reason }));
  }
  return { valid, invalid };
}

const REASON = Symbol('reason');
const firstReason = (invalid: readonly { readonly [REASON]: string }[]) => invalid[0]?.[REASON];

function toRecord(draft: EventDraft): OutgoingRecord {
  const key = typeof draft.session_id === 'string' ? draft.session_id : typeof draft.event_id === 'string' ? draft.event_id : 'collector';
  return { key, value: Buffer.from(JSON.stringify(draft)) };
}

/**
 * Any page may send (a collector is for every page of the shop, and a check on Origin
 * keeps out no one who is not a browser). The origin is echoed, not `*`, because Snowplow
 * sends with credentials, and a browser refuses `*` then; errors carry the same headers
 * or a tracker sees a network error and retries instead of dropping.
 */
function corsHeaders(origin: string | undefined): Record<string, string> {
  const safe = origin !== undefined && /^[\x21-\x7e]{1,2048}$/.test(origin) ? origin : undefined;
  return {
    ...(safe ? { 'access-control-allow-origin': safe, 'access-control-allow-credentials': 'true' } : { 'access-control-allow-origin': '*' }),
    'access-control-expose-headers': 'Retry-After, X-RateLimit-Reset',
    vary: 'Origin',
    'x-content-type-options': 'nosniff',
  };
}

function preflightHeaders(headers: CollectRequest['headers']): Record<string, string> {
  const asked = headers['access-control-request-headers'] ?? '';
  const allowed = /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/.test(asked) ? asked : 'Content-Type, Authorization, X-Retry-Count, SP-Anonymous, AnonymousId';
  return {
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': allowed.slice(0, 512),
    'access-control-max-age': '7200',
    vary: 'Origin, Access-Control-Request-Headers',
  };
}

function json(status: number, headers: Record<string, string>, body: unknown): CollectResponse {
  return { statusCode: status, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function error(status: number, headers: Record<string, string>, message: string): CollectResponse {
  return json(status, headers, { error: message });
}

/** The 1x1 transparent GIF Snowplow's GET answers with. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
