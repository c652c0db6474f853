/**
 * SASL settings for the simulator's Kafka clients. MSK IAM uses OAUTHBEARER
 * with a token signed from the function's own credentials (no network call);
 * the token provider runs for every new connection, so tokens never go stale.
 */
import type { SASLOptions } from '@platformatic/kafka';
import type { KafkaAuth } from './ingest-config.ts';

// Each mechanism's client is imported on its own path only (a cluster uses one).

export async function kafkaSasl(auth: KafkaAuth): Promise<SASLOptions | undefined> {
  switch (auth.kind) {
    case 'iam': {
      const { mskIamTokenProvider } = await import('./msk-iam-token.ts');
      return { mechanism: 'OAUTHBEARER', token: mskIamTokenProvider({ region: auth.region }) };
    }
    case 'scram-sha-512': {
      const { getSecretString, secretsManagerSettingsFromEnv } = await import('./secret-string.ts');
      // The same secret shape the event source mapping reads: {"username": …, "password": …}.
      const secret = await getSecretString(auth.secretArn, secretsManagerSettingsFromEnv(process.env));
      const { username, password } = parseSecret(secret, auth.secretArn);
      if (typeof username !== 'string' || typeof password !== 'string') {
        throw new Error(`secret ${auth.secretArn} must hold JSON with string "username" and "password" fields`);
      }
      return { mechanism: 'SCRAM-SHA-512', username, password };
    }
    case 'none':
      return undefined;
  }
}

function parseSecret(secret: string, secretArn: string): { username?: unknown; password?: unknown } {
  try {
    const value: unknown = JSON.parse(secret);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    throw new Error(`secret ${secretArn} must hold JSON with string "username" and "password" fields; it is not JSON`);
  }
}
