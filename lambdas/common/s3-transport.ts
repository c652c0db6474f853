/**
 * The project's S3 client: SigV4-signed requests over node:http(s) with keep-alive,
 * for the four calls the ObjectStore makes (lambdas/consumer/object-store.ts). Not the
 * SDK's S3Client because a cold start spent about 70 ms of CPU compiling that client
 * (its middleware stack, endpoint rules and operation schemas), more than the whole
 * budget of the consumer's cold import; this is a few KiB. docs/architecture.md
 * ("The S3 client") says what was compared. It keeps what the SDK gave the ObjectStore:
 * the endpoint and addressing (AWS, LocalStack, MinIO; AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL; path-style when asked, or for an IP or localhost endpoint as the SDK
 * does), the environment's credentials, the SDK's standard retries (3 attempts,
 * throttling such as 503 SlowDown and 429 backing off longer), and S3's error code and
 * message in a sentence (S3Error).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { amzDate, authorizationHeader, canonicalQuery, environmentCredentials, environmentRegion, sha256Hex, uriEncode, type AwsCredentials } from './sigv4.ts';

export interface S3Settings {
  readonly region: string;
  /** Another S3 (LocalStack, MinIO) at this URL. @default - AWS: https://s3.<region>.amazonaws.com */
  readonly endpoint?: string;
  /** `<endpoint>/<bucket>/<key>` rather than `<bucket>.<endpoint host>/<key>`. @default - only for an IP or localhost endpoint, or a bucket with dots */
  readonly forcePathStyle?: boolean;
  /** @default - the environment's (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), read for each request */
  readonly credentials?: AwsCredentials;
  /** Tries per request, the first included. @default 3 (the SDK's standard retry mode) */
  readonly maxAttempts?: number;
  /** A request fails (and may be retried) when its connection is idle this long. @default 60_000 */
  readonly idleTimeoutMs?: number;
}

/**
 * Settings from a Lambda's environment: AWS_REGION, AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL,
 * which LocalStack sets), CLICKSTREAM_S3_FORCE_PATH_STYLE=true for path-style, AWS_MAX_ATTEMPTS.
 */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv): S3Settings {
  const region = environmentRegion('the S3 client', env);
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const attempts = env.AWS_MAX_ATTEMPTS ? Number(env.AWS_MAX_ATTEMPTS) : undefined;
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1)) throw new Error(`AWS_MAX_ATTEMPTS must be a whole number of at least 1, got "${env.AWS_MAX_ATTEMPTS}"`);
  const pathStyle = env.CLICKSTREAM_S3_FORCE_PATH_STYLE;
  if (pathStyle !== undefined && pathStyle !== '' && pathStyle !== 'true' && pathStyle !== 'false') throw new Error(`CLICKSTREAM_S3_FORCE_PATH_STYLE must be true or false, got "${pathStyle}"`);
  return { region, ...(endpoint && { endpoint }), forcePathStyle: pathStyle === 'true', ...(attempts && { maxAttempts: attempts }) };
}

/** An answer from S3 other than success, or no answer: what failed, S3's code and message, and the HTTP status (0: none came). */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface S3Request {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly bucket: string;
  /** Absent for a bucket-level call (ListObjectsV2, DeleteObjects). */
  readonly key?: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Lower-case names; all are signed. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface S3Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const SERVICE = 's3';
const EMPTY = Buffer.alloc(0);
/** The SDK's standard retry strategy: full jitter over these bases, doubling per attempt, at most 20 s. */
const RETRY_BASE_MS = 100;
const THROTTLE_RETRY_BASE_MS = 500;
const MAX_RETRY_DELAY_MS = 20_000;
const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException']);
const TRANSIENT_CODES = new Set(['RequestTimeout', 'InternalError', 'ServiceUnavailable']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken']);

/** One S3 endpoint: signs, sends and retries requests. */
export class S3Transport {
  private readonly endpoint: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly https: boolean;
  private readonly ipOrLocalhost: boolean;
  /** The endpoint's host name without the brackets of an IPv6 address. */
  private readonly endpointHostname: string;

  constructor(readonly settings: S3Settings) {
    this.endpoint = new URL(settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`);
    this.https = this.endpoint.protocol === 'https:';
    if (!this.https && this.endpoint.protocol !== 'http:') throw new Error(`the S3 endpoint must be an http or https URL, got "${settings.endpoint}"`);
    // Connections kept open between requests (and invocations), as the SDK's handler does.
    this.agent = this.https ? new HttpsAgent({ keepAlive: true, maxSockets: 50 }) : new HttpAgent({ keepAlive: true, maxSockets: 50 });
    this.endpointHostname = this.endpoint.hostname.replace(/^\[|\]$/g, '');
    // Not node:net's isIP: its IPv6 pattern costs about 5-10 ms to compile at a cold start.
    this.ipOrLocalhost = /^(\d{1,3}\.){3}\d{1,3}$/.test(this.endpointHostname) || this.endpointHostname.includes(':') || this.endpointHostname === 'localhost';
  }

  /** Sends the request (retrying what may succeed on a retry); resolves with a 2xx response, else rejects with an S3Error. */
  async send(request: S3Request): Promise<S3Response> {
    const attempts = this.settings.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      // Read for each attempt (a missing one throws here, not retried): Lambda's stay put, a test may change them.
      const credentials = this.settings.credentials ?? environmentCredentials('S3');
      let outcome: S3Response | S3Error;
      try {
        outcome = await this.once(request, credentials);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        outcome = new S3Error(`${describe(request)} got no answer from ${this.endpoint.origin}: ${(error as Error).message}`, 0, code, { cause: error });
      }
      if (!(outcome instanceof S3Error)) {
        if (outcome.status >= 200 && outcome.status < 300) return outcome;
        outcome = this.errorOf(request, outcome);
      }
      const retry = retryBase(outcome);
      if (retry === undefined || attempt >= attempts) throw outcome;
      const delay = Math.random() * Math.min(MAX_RETRY_DELAY_MS, retry * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** Stops keeping connections open, so a process that is done can exit. */
  destroy(): void {
    this.agent.destroy();
  }

  private errorOf(request: S3Request, response: S3Response): S3Error {
    const xml = response.body.toString('utf8');
    const code = xmlValue(xml, 'Code');
    const message = xmlValue(xml, 'Message');
    const hint = code && CREDENTIAL_CODES.has(code) ? `; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or those the store was given) for ${this.endpoint.origin}` : '';
    return new S3Error(`${describe(request)} failed: ${code ?? 'no error code'} (HTTP ${response.status})${message ? `: ${message}` : ''}${hint}`, response.status, code);
  }

  private once(request: S3Request, credentials: AwsCredentials): Promise<S3Response> {
    const { method, bucket, key, query = {}, body = EMPTY } = request;
    const pathStyle = this.settings.forcePathStyle === true || this.ipOrLocalhost || bucket.includes('.');
    // Virtual-hosted: the bucket's own host name (its DNS name and TLS certificate), as the SDK connects.
    const hostname = pathStyle ? this.endpointHostname : `${bucket}.${this.endpointHostname}`;
    const host = pathStyle ? this.endpoint.host : `${bucket}.${this.endpoint.host}`;
    const base = this.endpoint.pathname.replace(/\/$/, '');
    const objectPath = key === undefined ? '' : `/${key.split('/').map(uriEncode).join('/')}`;
    // S3 signs the path as sent: already encoded, never encoded twice, no dot segments removed.
    const path = pathStyle ? `${base}/${uriEncode(bucket)}${objectPath}` : `${base}${objectPath || '/'}`;
    const queryString = canonicalQuery(query);

    const date = amzDate(new Date());
    const headers: Record<string, string> = {
      ...request.headers,
      host,
      'x-amz-date': date,
      'x-amz-content-sha256': sha256Hex(body),
      ...(credentials.sessionToken && { 'x-amz-security-token': credentials.sessionToken }),
      'content-length': String(body.length),
    };
    const outgoing: OutgoingHttpHeaders = {
      ...headers,
      authorization: authorizationHeader({ method, path, query: queryString, headers, payloadHash: headers['x-amz-content-sha256']! }, date, this.settings.region, SERVICE, credentials),
    };

    return new Promise((resolve, reject) => {
      const send = this.https ? httpsRequest : httpRequest;
      const req = send(
        { hostname, port: this.endpoint.port || undefined, method, path: queryString ? `${path}?${queryString}` : path, headers: outgoing, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      const idleMs = this.settings.idleTimeoutMs ?? 60_000;
      req.setTimeout(idleMs, () => req.destroy(Object.assign(new Error(`the connection was idle for ${idleMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The base of the backoff if the failure may pass on a retry, else undefined. */
function retryBase(error: S3Error): number | undefined {
  if (error.status === 429 || (error.code && THROTTLE_CODES.has(error.code))) return THROTTLE_RETRY_BASE_MS;
  if (error.status === 0) return error.code && NETWORK_CODES.has(error.code) ? RETRY_BASE_MS : undefined;
  if (error.status >= 500 || (error.code && TRANSIENT_CODES.has(error.code))) return RETRY_BASE_MS;
  return undefined;
}

const describe = (request: S3Request) => `S3 ${request.method} s3://${request.bucket}/${request.key ?? ''}`;

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Text with XML's five named entities and numeric references replaced. */
export function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]!,
  );
}

/**
 * The raw contents of every `<tag>` element in S3's XML. Enough for S3's answers, whose
 * elements of one name never nest (a `Contents` holds a `Key`, never another `Contents`).
 */
export function xmlElements(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
}

/** The text of the first `<tag>` element, or undefined. */
export function xmlValue(xml: string, tag: string): string | undefined {
  const first = xmlElements(xml, tag)[0];
  return first === undefined ? undefined : xmlText(first);
}

/** Text made safe inside an XML element. */
export const xmlEscape = (s: string) => s.replace(/[&<>"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)!};`);
