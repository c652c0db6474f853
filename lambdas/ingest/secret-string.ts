/**
 * One Secrets Manager call, GetSecretValue, signed with the project's SigV4
 * (lambdas/common/sigv4.ts): the simulator's SCRAM path reads its Kafka user from
 * it once per cold start. Not the SDK's client, which brings the SDK's client core
 * (about 200 KiB) to that path for this one request.
 */
import { amzDate, authorizationHeader, environmentCredentials, environmentRegion, sha256Hex, type AwsCredentials } from '../common/sigv4.ts';

export interface SecretsManagerSettings {
  readonly region: string;
  /** Another Secrets Manager (LocalStack) at this URL. @default https://secretsmanager.<region>.amazonaws.com */
  readonly endpoint?: string;
  /** @default - the environment's (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) */
  readonly credentials?: AwsCredentials;
}

/** Settings from a Lambda's environment: AWS_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL (LocalStack sets the latter). */
export function secretsManagerSettingsFromEnv(env: NodeJS.ProcessEnv): SecretsManagerSettings {
  const region = environmentRegion('reading the Kafka secret', env);
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL;
  return { region, ...(endpoint && { endpoint }) };
}

/** The secret's SecretString; rejects with one sentence naming the secret and Secrets Manager's error. */
export async function getSecretString(secretId: string, settings: SecretsManagerSettings): Promise<string> {
  const url = new URL(settings.endpoint ?? `https://secretsmanager.${settings.region}.amazonaws.com`);
  const credentials = settings.credentials ?? environmentCredentials('reading the Kafka secret');
  const body = JSON.stringify({ SecretId: secretId });
  const date = amzDate(new Date());
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-date': date,
    'x-amz-target': 'secretsmanager.GetSecretValue',
    ...(credentials.sessionToken && { 'x-amz-security-token': credentials.sessionToken }),
  };
  const path = url.pathname || '/';
  const authorization = authorizationHeader({ method: 'POST', path, query: '', headers, payloadHash: sha256Hex(body) }, date, settings.region, 'secretsmanager', credentials);
  let response: Response;
  try {
    // fetch sets Host itself, from the URL: the value signed above.
    const { host: _signedHost, ...sent } = headers;
    response = await fetch(new URL(path, url), { method: 'POST', headers: { ...sent, authorization }, body });
  } catch (error) {
    throw new Error(`could not reach Secrets Manager at ${url.origin} to read ${secretId}: ${(error as Error).message}`, { cause: error });
  }
  const answer = (await response.json().catch(() => ({}))) as { SecretString?: unknown; __type?: unknown; message?: unknown; Message?: unknown };
  if (!response.ok) {
    const code = typeof answer.__type === 'string' ? answer.__type.split('#').pop() : 'no error code';
    const message = answer.message ?? answer.Message;
    throw new Error(`reading secret ${secretId} failed: ${code} (HTTP ${response.status})${typeof message === 'string' ? `: ${message}` : ''}`);
  }
  if (typeof answer.SecretString !== 'string') throw new Error(`secret ${secretId} holds no SecretString (a binary secret cannot hold the Kafka user)`);
  return answer.SecretString;
}
