/**
 * The simulator's SCRAM path reads its Kafka user from Secrets Manager with the project's
 * own signed request (lambdas/ingest/secret-string.ts), here against LocalStack's real
 * Secrets Manager, with the environment a deployed function has there. Secrets are made
 * with the SDK's client, which shares no code with the reader.
 */
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kafkaSasl } from '../../lambdas/ingest/kafka-auth.ts';
import { cloud } from './aws.ts';

const secrets = new SecretsManagerClient({ endpoint: cloud.endpoint, region: cloud.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const made: string[] = [];
const FUNCTION_ENV = { AWS_REGION: cloud.region, AWS_ENDPOINT_URL: cloud.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_SESSION_TOKEN: 'session' };
const saved = { ...process.env };

async function secret(value: string): Promise<string> {
  const { ARN } = await secrets.send(new CreateSecretCommand({ Name: `AmazonMSK_test-${Math.random().toString(36).slice(2, 10)}`, SecretString: value }));
  made.push(ARN!);
  return ARN!;
}

beforeEach(() => {
  Object.assign(process.env, FUNCTION_ENV);
});
afterEach(() => {
  for (const key of Object.keys(FUNCTION_ENV)) delete process.env[key];
  Object.assign(process.env, saved);
});
afterAll(async () => {
  for (const SecretId of made) await secrets.send(new DeleteSecretCommand({ SecretId, ForceDeleteWithoutRecovery: true }));
});

describe('the SCRAM secret read from Secrets Manager', () => {
  it('gives the Kafka client the secret\'s user and password', async () => {
    const secretArn = await secret(JSON.stringify({ username: 'shop-simulator', password: 'pä55 "word"' }));
    expect(await kafkaSasl({ kind: 'scram-sha-512', secretArn })).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'shop-simulator', password: 'pä55 "word"' });
  });

  it.each([
    ['a secret that is not JSON', 'user:password', /is not JSON/],
    ['a secret without a password', JSON.stringify({ username: 'u' }), /must hold JSON with string "username" and "password" fields/],
    ['a secret that is JSON but no object', 'null', /must hold JSON with string "username" and "password" fields/],
  ])('rejects %s with one sentence', async (_case, value, message) => {
    const secretArn = await secret(value);
    await expect(kafkaSasl({ kind: 'scram-sha-512', secretArn })).rejects.toThrow(message);
  });

  it('names a secret that does not exist and Secrets Manager\'s error', async () => {
    const secretArn = `arn:aws:secretsmanager:${cloud.region}:000000000000:secret:AmazonMSK_missing-AbCdEf`;
    await expect(kafkaSasl({ kind: 'scram-sha-512', secretArn })).rejects.toThrow(`reading secret ${secretArn} failed: ResourceNotFoundException (HTTP 400)`);
  });

  it('says what is missing when the environment has no region or credentials', async () => {
    const secretArn = await secret(JSON.stringify({ username: 'u', password: 'p' }));
    delete process.env.AWS_REGION;
    await expect(kafkaSasl({ kind: 'scram-sha-512', secretArn })).rejects.toThrow('AWS_REGION is not set');
    process.env.AWS_REGION = cloud.region;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(kafkaSasl({ kind: 'scram-sha-512', secretArn })).rejects.toThrow('needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  });
});
