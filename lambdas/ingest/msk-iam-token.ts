/**
 * MSK IAM authentication token: a SigV4-presigned `kafka-cluster:Connect` URL for the
 * region's `kafka` host, base64url-encoded, which MSK takes as the OAUTHBEARER token. It
 * is what aws-msk-iam-sasl-signer-js's generateAuthToken makes (test/unit/msk-iam-token.test.ts
 * compares the two), written here because that package is CommonJS and brings its own
 * STS client and credential providers, and even the SDK's SigV4 signer imports the
 * SDK's whole client core: 130-257 KiB more on the simulator's MSK path, against 3 KiB
 * for this, one presigned GET with Node's crypto.
 */
import { createHash, createHmac } from 'node:crypto';

/** A token is valid for 15 minutes, or less if the credentials expire sooner. */
const TOKEN_SECONDS = 900;
const SERVICE = 'kafka-cluster';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface MskIamTokenOptions {
  readonly region: string;
  /**
   * @default - the environment's (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
   * which is where Lambda puts the function's role credentials; the simulator signs only in Lambda.
   */
  readonly credentials?: () => Promise<AwsCredentials>;
  /** Sent as the token's User-Agent parameter (MSK logs it). @default 'clickstream-simulator' */
  readonly userAgent?: string;
}

function environmentCredentials(): Promise<AwsCredentials> {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) {
    return Promise.reject(new Error('MSK IAM auth needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (Lambda sets them from the function role)'));
  }
  return Promise.resolve({ accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) });
}

const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding, as SigV4 canonicalizes query strings. */
const uriEncode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A token provider for the Kafka client's OAUTHBEARER mechanism; it signs locally, no network call. */
export function mskIamTokenProvider(options: MskIamTokenOptions): () => Promise<string> {
  const credentials = options.credentials ?? environmentCredentials;
  const host = `kafka.${options.region}.amazonaws.com`;
  return async () => {
    const identity = await credentials();
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, ''); // 20261203T123456Z
    const scope = `${amzDate.slice(0, 8)}/${options.region}/${SERVICE}/aws4_request`;
    // Whole seconds: SigV4 expects an integer.
    const expiresIn = Math.floor(identity.expiration ? Math.min((identity.expiration.getTime() - now.getTime()) / 1000, TOKEN_SECONDS) : TOKEN_SECONDS);
    const query: Record<string, string> = {
      Action: `${SERVICE}:Connect`,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `${identity.accessKeyId}/${scope}`,
      'X-Amz-Date': amzDate,
      'X-Amz-Expires': String(expiresIn),
      ...(identity.sessionToken && { 'X-Amz-Security-Token': identity.sessionToken }),
      'X-Amz-SignedHeaders': 'host',
    };
    const canonicalQuery = Object.keys(query)
      .sort()
      .map((k) => `${uriEncode(k)}=${uriEncode(query[k]!)}`)
      .join('&');
    // Method, path, query, headers, signed header names, and the hash of the (empty) body.
    const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}`, '', 'host', sha256Hex('')].join('\n');
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    let key: Buffer = hmac(`AWS4${identity.secretAccessKey}`, amzDate.slice(0, 8));
    for (const part of [options.region, SERVICE, 'aws4_request']) key = hmac(key, part);
    const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
    const url = `https://${host}/?${canonicalQuery}&X-Amz-Signature=${signature}&User-Agent=${uriEncode(options.userAgent ?? 'clickstream-simulator')}`;
    return Buffer.from(url, 'utf8').toString('base64url');
  };
}
