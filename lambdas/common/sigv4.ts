/**
 * AWS Signature Version 4, the parts every signer here shares: the MSK IAM token
 * (lambdas/ingest/msk-iam-token.ts, a presigned URL) and the S3 transport
 * (lambdas/common/s3-transport.ts, signed headers). Node's crypto only: the SDK's
 * signer imports the SDK's client core with it.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 canonicalizes query strings and S3 object keys. */
export const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `20261203T123456Z`: the X-Amz-Date form of a time. */
export const amzDate = (at: Date) => at.toISOString().replace(/[-:]|\.\d{3}/g, '');

/** The credential scope of a request signed at `date` (an amzDate). */
export const credentialScope = (date: string, region: string, service: string) => `${date.slice(0, 8)}/${region}/${service}/aws4_request`;

/** The hex signature of a canonical request, for the scope's region and service. */
export function signCanonicalRequest(canonicalRequest: string, date: string, region: string, service: string, secretAccessKey: string): string {
  const stringToSign = [SIGV4_ALGORITHM, date, credentialScope(date, region, service), sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

export interface SignedRequest {
  readonly method: string;
  /** The path as sent (already encoded). */
  readonly path: string;
  /** The canonical query string (canonicalQuery), or '' for none. */
  readonly query: string;
  /** Every header to sign, lower-case names; `host` and `x-amz-date` among them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The hex SHA-256 of the body. */
  readonly payloadHash: string;
}

/** The Authorization header of a request signed in headers at `date` (an amzDate): every header given is signed. */
export function authorizationHeader(request: SignedRequest, date: string, region: string, service: string, credentials: AwsCredentials): string {
  const names = Object.keys(request.headers).sort();
  const canonicalRequest = [request.method, request.path, request.query, ...names.map((n) => `${n}:${request.headers[n]!.trim()}`), '', names.join(';'), request.payloadHash].join('\n');
  const signature = signCanonicalRequest(canonicalRequest, date, region, service, credentials.secretAccessKey);
  return `${SIGV4_ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope(date, region, service)}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
}

/** The query string in canonical form: names and values RFC 3986 encoded, sorted by name. */
export const canonicalQuery = (query: Readonly<Record<string, string>>) =>
  Object.keys(query)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k]!)}`)
    .join('&');

/**
 * The environment's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 * which is where Lambda puts the function role's; `what` names who needs them in the error.
 */
export function environmentCredentials(what: string, env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`${what} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (Lambda sets them from the function role)`);
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
}

/** The environment's region (AWS_REGION, which Lambda sets, or AWS_DEFAULT_REGION); `what` names who needs it in the error. */
export function environmentRegion(what: string, env: NodeJS.ProcessEnv = process.env): string {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`AWS_REGION is not set: ${what} needs the region (Lambda sets it)`);
  return region;
}
