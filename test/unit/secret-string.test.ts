/**
 * The Secrets Manager read of the simulator's SCRAM path, against a stand-in server on
 * loopback: its signature is the SDK's own signer's, and each failure is one sentence.
 * The real call runs against LocalStack in test/cloud/kafka-secret.test.ts.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSecretString, secretsManagerSettingsFromEnv } from '../../lambdas/ingest/secret-string.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };
let answer: { status: number; body: string } = { status: 200, body: '{}' };
let seen: { url: string; headers: IncomingHttpHeaders; body: string } | undefined;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(answer.body);
  });
});
let endpoint = '';
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())).then(() => (endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('getSecretString', () => {
  it('sends GetSecretValue signed exactly as the SDK signer signs it, and returns the SecretString', async () => {
    answer = { status: 200, body: JSON.stringify({ ARN: 'arn', SecretString: '{"username":"u","password":"p"}' }) };
    expect(await getSecretString('arn:aws:secretsmanager:eu-west-1:1:secret:AmazonMSK_x', { region: 'eu-west-1', endpoint, credentials })).toBe('{"username":"u","password":"p"}');
    const request = seen!;
    expect(request.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(request.body)).toEqual({ SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:AmazonMSK_x' });
    const signedNames = ['content-type', 'host', 'x-amz-date', 'x-amz-security-token', 'x-amz-target'];
    const headers = Object.fromEntries(signedNames.map((n) => [n, String(request.headers[n])]));
    // Without the optional x-amz-content-sha256 header (the SDK adds it by default; SigV4 outside S3 does not need it).
    const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'secretsmanager', sha256: Sha256, applyChecksum: false });
    const signed = await signer.sign(
      { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', headers, body: request.body },
      { signingDate: new Date(Date.parse(headers['x-amz-date']!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'))), signableHeaders: new Set(signedNames) },
    );
    expect(request.headers.authorization).toBe(signed.headers.authorization);
  });

  it.each([
    [{ status: 400, body: JSON.stringify({ __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }) }, "reading secret s failed: ResourceNotFoundException (HTTP 400): Secrets Manager can't find the specified secret."],
    [{ status: 403, body: JSON.stringify({ __type: 'AccessDeniedException', Message: 'not allowed' }) }, 'reading secret s failed: AccessDeniedException (HTTP 403): not allowed'],
    [{ status: 500, body: '<html>' }, 'reading secret s failed: no error code (HTTP 500)'],
    [{ status: 200, body: JSON.stringify({ SecretBinary: 'AAAA' }) }, 'secret s holds no SecretString (a binary secret cannot hold the Kafka user)'],
  ])('answers %j with one sentence', async (response, message) => {
    answer = response;
    await expect(getSecretString('s', { region: 'eu-west-1', endpoint, credentials })).rejects.toThrow(message);
  });

  it('says when Secrets Manager cannot be reached', async () => {
    await expect(getSecretString('s', { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials })).rejects.toThrow('could not reach Secrets Manager at http://127.0.0.1:9 to read s');
  });

  it('takes the region and endpoint from the environment, and says when the region is missing', () => {
    expect(secretsManagerSettingsFromEnv({ AWS_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1' });
    expect(secretsManagerSettingsFromEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://b' })).toEqual({ region: 'eu-west-1', endpoint: 'http://b' });
    expect(() => secretsManagerSettingsFromEnv({})).toThrow('AWS_REGION is not set');
  });
});
