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
      const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
      // The same secret shape the event source mapping reads: {"username": …, "password": …}.
      const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: auth.secretArn }));
      const { username, password } = JSON.parse(secret.SecretString ?? '{}') as { username?: unknown; password?: unknown };
      if (typeof username !== 'string' || typeof password !== 'string') {
        throw new Error(`secret ${auth.secretArn} must hold JSON with string "username" and "password" fields`);
      }
      return { mechanism: 'SCRAM-SHA-512', username, password };
    }
    case 'none':
      return undefined;
  }
}
