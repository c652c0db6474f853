/**
 * MSK IAM authentication token: a SigV4-presigned `kafka-cluster:Connect` URL for the
 * region's `kafka` host, base64url-encoded, which MSK takes as the OAUTHBEARER token. It
 * is what aws-msk-iam-sasl-signer-js's generateAuthToken makes (test/unit/msk-iam-token.test.ts
 * compares the two), written here because that package is CommonJS and brings its own
 * STS client and credential providers, and even the SDK's SigV4 signer imports the
 * SDK's whole client core: 130-257 KiB more on the simulator's MSK path, against 3 KiB
 * for this, one presigned GET with Node's crypto.
 */
import { amzDate, canonicalQuery, credentialScope, environmentCredentials, sha256Hex, signCanonicalRequest, SIGV4_ALGORITHM, uriEncode, type AwsCredentials } from '../common/sigv4.ts';

export type { AwsCredentials };

/** A token is valid for 15 minutes, or less if the credentials expire sooner. */
const TOKEN_SECONDS = 900;
const SERVICE = 'kafka-cluster';

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

const fromEnvironment = (): Promise<AwsCredentials> => Promise.resolve().then(() => environmentCredentials('MSK IAM auth'));

/** A token provider for the Kafka client's OAUTHBEARER mechanism; it signs locally, no network call. */
export function mskIamTokenProvider(options: MskIamTokenOptions): () => Promise<string> {
  const credentials = options.credentials ?? fromEnvironment;
  const host = `kafka.${options.region}.amazonaws.com`;
  return async () => {
    const identity = await credentials();
    const now = new Date();
    const date = amzDate(now);
    // Whole seconds: SigV4 expects an integer.
    const expiresIn = Math.floor(identity.expiration ? Math.min((identity.expiration.getTime() - now.getTime()) / 1000, TOKEN_SECONDS) : TOKEN_SECONDS);
    const query = canonicalQuery({
      Action: `${SERVICE}:Connect`,
      'X-Amz-Algorithm': SIGV4_ALGORITHM,
      'X-Amz-Credential': `${identity.accessKeyId}/${credentialScope(date, options.region, SERVICE)}`,
      'X-Amz-Date': date,
      'X-Amz-Expires': String(expiresIn),
      ...(identity.sessionToken && { 'X-Amz-Security-Token': identity.sessionToken }),
      'X-Amz-SignedHeaders': 'host',
    });
    // Method, path, query, headers, signed header names, and the hash of the (empty) body.
    const canonicalRequest = ['GET', '/', query, `host:${host}`, '', 'host', sha256Hex('')].join('\n');
    const signature = signCanonicalRequest(canonicalRequest, date, options.region, SERVICE, identity.secretAccessKey);
    const url = `https://${host}/?${query}&X-Amz-Signature=${signature}&User-Agent=${uriEncode(options.userAgent ?? 'clickstream-simulator')}`;
    return Buffer.from(url, 'utf8').toString('base64url');
  };
}
