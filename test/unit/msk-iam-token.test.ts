/**
 * The simulator's MSK IAM token against AWS's own signer library (a dev dependency kept
 * for this comparison): the same presigned URL for the same credentials and clock, so
 * MSK accepts it as it accepts the library's. Only the User-Agent parameter differs.
 */
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mskIamTokenProvider } from '../../lambdas/ingest/msk-iam-token.ts';

const decode = (token: string) => new URL(Buffer.from(token, 'base64url').toString('utf8'));
/** The URL with its parameters in one order (the server reads them by name) and without User-Agent. */
const withoutUserAgent = (url: URL) => {
  const params = [...url.searchParams].filter(([k]) => k !== 'User-Agent').sort(([a], [b]) => a.localeCompare(b));
  return `${url.origin}${url.pathname}?${new URLSearchParams(params).toString()}`;
};

describe('MSK IAM token', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-03T12:34:56Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it.each([
    ['long-lived keys', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }],
    [
      'a session expiring in 5 minutes',
      { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret/with+chars', sessionToken: 'token/with+chars==', expiration: new Date('2026-12-03T12:39:56Z') },
    ],
  ])('signs the same kafka-cluster:Connect URL as the reference signer, with %s', async (_, credentials) => {
    // Prepare
    const provider = () => Promise.resolve(credentials);
    // Act
    const ours = decode(await mskIamTokenProvider({ region: 'eu-west-1', credentials: provider })());
    const reference = decode((await generateAuthTokenFromCredentialsProvider({ region: 'eu-west-1', awsCredentialsProvider: provider })).token);
    // Assess
    expect(withoutUserAgent(ours)).toBe(withoutUserAgent(reference));
    expect(ours.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(ours.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(ours.searchParams.get('X-Amz-Expires')).toBe('expiration' in credentials ? '300' : '900');
    expect(ours.searchParams.get('User-Agent')).toBe('clickstream-simulator');
  });

  it('takes the credentials Lambda puts in the environment, and says so when they are missing', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session');
    const url = decode(await mskIamTokenProvider({ region: 'us-east-1' })());
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAENV\/20261203\/us-east-1\/kafka-cluster\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('session');
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    await expect(mskIamTokenProvider({ region: 'us-east-1' })()).rejects.toThrow(/needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('is base64url without padding, as MSK expects', async () => {
    const token = await mskIamTokenProvider({ region: 'us-east-1', credentials: () => Promise.resolve({ accessKeyId: 'A', secretAccessKey: 'B' }) })();
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
