/**
 * The S3 transport against a stand-in server on loopback: the requests it signs are the
 * ones the SDK's own SigV4 signer (@smithy/signature-v4, in the tree through the SDK)
 * signs, throttling and 5xx answers are retried and then reported, and client errors
 * are not retried. The real S3 semantics (conditional PUT, pages, deletes) are tested
 * against MinIO (test/integration/object-store.test.ts) and LocalStack (test/cloud/).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Error, s3SettingsFromEnv, S3Transport, xmlElements, xmlEscape, xmlValue } from '../../lambdas/common/s3-transport.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** What the stand-in answers next (status and XML body), in order; then 200 with an empty body. */
let answers: { status: number; body: string }[] = [];
let seen: Seen[] = [];
let server: Server;
let endpoint: string;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+=' };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers.shift() ?? { status: 200, body: '' };
      res.writeHead(answer.status, { 'content-type': 'application/xml', etag: '"abc"' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers = [];
  seen = [];
});

const error = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

describe('S3 transport', () => {
  it('signs a request exactly as the SDK signer does (path-style key with characters to encode, query, session token, body)', async () => {
    // Prepare
    const transport = new S3Transport({ region: 'eu-west-1', endpoint, credentials });
    const body = Buffer.from('{"hello":"world"}');
    // Act
    await transport.send({ method: 'PUT', bucket: 'lake', key: 'events/year=2026/a b+c&ü.json', query: { 'x-id': 'PutObject' }, headers: { 'content-type': 'application/json', 'if-none-match': '*' }, body });
    transport.destroy();
    // Assess
    const request = seen[0]!;
    expect(request.url).toBe('/lake/events/year%3D2026/a%20b%2Bc%26%C3%BC.json?x-id=PutObject');
    expect(request.body.equals(body)).toBe(true);
    const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true });
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name !== 'authorization' && name !== 'connection')) as Record<string, string>;
    const signed = await signer.sign(
      { method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: '/lake/events/year%3D2026/a%20b%2Bc%26%C3%BC.json', query: { 'x-id': 'PutObject' }, headers, body },
      { signingDate: new Date(Date.parse(headers['x-amz-date']!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'))), signableHeaders: new Set(Object.keys(headers)) },
    );
    expect(request.headers.authorization).toBe(signed.headers.authorization);
    expect(request.headers['x-amz-security-token']).toBe(credentials.sessionToken);
  });

  it('addresses a bucket by its own host name on AWS, and path-style when asked or for an IP endpoint', () => {
    expect(s3SettingsFromEnv({ AWS_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1', forcePathStyle: false });
    expect(s3SettingsFromEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', CLICKSTREAM_S3_FORCE_PATH_STYLE: 'true', AWS_MAX_ATTEMPTS: '1' })).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      maxAttempts: 1,
    });
    expect(() => s3SettingsFromEnv({})).toThrow(/AWS_REGION is not set/);
    expect(() => s3SettingsFromEnv({ AWS_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: 'many' })).toThrow(/AWS_MAX_ATTEMPTS must be a whole number/);
    expect(() => s3SettingsFromEnv({ AWS_REGION: 'us-east-1', CLICKSTREAM_S3_FORCE_PATH_STYLE: 'yes' })).toThrow('CLICKSTREAM_S3_FORCE_PATH_STYLE must be true or false, got "yes"');
    expect(() => new S3Transport({ region: 'us-east-1', endpoint: 'ftp://example.com' })).toThrow(/must be an http or https URL/);
  });

  it('retries 503 SlowDown and 500 with backoff, and succeeds when S3 recovers', async () => {
    answers = [{ status: 503, body: error('SlowDown', 'Please reduce your request rate.') }, { status: 500, body: error('InternalError', 'We encountered an internal error.') }];
    const transport = new S3Transport({ region: 'us-east-1', endpoint, credentials });
    const response = await transport.send({ method: 'GET', bucket: 'lake', key: 'k' });
    transport.destroy();
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
  });

  it('gives up after maxAttempts with S3\'s code and message in one sentence', async () => {
    answers = Array.from({ length: 3 }, () => ({ status: 503, body: error('SlowDown', 'Please reduce your request rate.') }));
    const transport = new S3Transport({ region: 'us-east-1', endpoint, credentials, maxAttempts: 3 });
    const failed = transport.send({ method: 'PUT', bucket: 'lake', key: 'a/b.parquet', body: Buffer.from('x') });
    await expect(failed).rejects.toThrow(new S3Error('S3 PUT s3://lake/a/b.parquet failed: SlowDown (HTTP 503): Please reduce your request rate.', 503, 'SlowDown'));
    await expect(failed).rejects.toMatchObject({ status: 503, code: 'SlowDown' });
    transport.destroy();
    expect(seen).toHaveLength(3);
  });

  it('does not retry what a retry cannot fix (412, 404, a bad signature), and says to check the credentials', async () => {
    answers = [
      { status: 412, body: error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold') },
      { status: 403, body: error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.') },
    ];
    const transport = new S3Transport({ region: 'us-east-1', endpoint, credentials });
    await expect(transport.send({ method: 'PUT', bucket: 'lake', key: 'k', headers: { 'if-match': '"x"' } })).rejects.toMatchObject({ status: 412, code: 'PreconditionFailed' });
    await expect(transport.send({ method: 'GET', bucket: 'lake', key: 'k' })).rejects.toThrow(/SignatureDoesNotMatch \(HTTP 403\).*check the credentials \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    transport.destroy();
    expect(seen).toHaveLength(2);
  });

  it('retries a refused connection, then names the endpoint', async () => {
    const transport = new S3Transport({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', credentials, maxAttempts: 2 });
    await expect(transport.send({ method: 'GET', bucket: 'lake', key: 'k' })).rejects.toThrow(/S3 GET s3:\/\/lake\/k got no answer from http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    transport.destroy();
  });

  it('without credentials in the environment, says where they come from', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const transport = new S3Transport({ region: 'us-east-1', endpoint });
      await expect(transport.send({ method: 'GET', bucket: 'lake', key: 'k' })).rejects.toThrow(/^S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment \(Lambda sets them from the function role\)$/);
      transport.destroy();
      expect(seen).toEqual([]);
    } finally {
      if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('reads and writes the XML S3 speaks, entities included', () => {
    const page = '<ListBucketResult><Contents><Key>a&amp;b &lt;c&gt;</Key><ETag>&quot;e1&quot;</ETag></Contents><Contents><Key>&#252;&#x2F;</Key></Contents><IsTruncated>false</IsTruncated></ListBucketResult>';
    expect(xmlElements(page, 'Contents').map((c) => xmlValue(c, 'Key'))).toEqual(['a&b <c>', 'ü/']);
    expect(xmlValue(page, 'ETag')).toBe('"e1"');
    expect(xmlValue(page, 'NextContinuationToken')).toBeUndefined();
    expect(xmlEscape(`a&b<c>"d'`)).toBe('a&amp;b&lt;c&gt;&quot;d&apos;');
  });
});
