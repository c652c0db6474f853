import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSWER_CACHE_SECONDS } from '../../../lambdas/query-api/limits.ts';

type Handler = typeof import('../../../lambdas/query-api/handler.ts');
let mod: Handler;

beforeAll(async () => {
  // The handler reads its settings when loaded; no request below reaches Athena.
  vi.stubEnv('CLICKSTREAM_GLUE_DATABASE', 'db');
  vi.stubEnv('CLICKSTREAM_ATHENA_WORKGROUP', 'wg');
  vi.stubEnv('CLICKSTREAM_LAKE_BUCKET', 'lake');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  mod = await import('../../../lambdas/query-api/handler.ts');
});

describe('query API Lambda handler', () => {
  it.each(['/api/query/%E0%A4%A', '/api/query/kpis%', '/api/query/%zz'])('answers 400 with a clear error for a malformed percent-encoding (%s)', async (rawPath) => {
    const response = await mod.handler({ rawPath });
    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(/not valid percent-encoding: use \/api\/query\/<name>/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 404 outside /api/dashboard and /api/query/<name>', async () => {
    expect((await mod.handler({ rawPath: '/api/other' })).statusCode).toBe(404);
  });

  it('answers 400 for a bad /api/dashboard parameter, not cached at the edge', async () => {
    const response = await mod.handler({ rawPath: '/api/dashboard', queryStringParameters: { country: 'de' } });
    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toBe('country must be a two-letter ISO code in capitals, got "de"');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 400 for an unknown (well-encoded) query name, not cached at the edge', async () => {
    const response = await mod.handler({ rawPath: '/api/query/no%20such' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('lets CloudFront keep a 200 answer as long as the function does, a long range longer; browsers revalidate', () => {
    const answer = { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: '{}' };
    const ok = mod.cacheableAtTheEdge(answer, 3_600_000);
    expect(ok.headers['cache-control']).toBe(`public, max-age=0, s-maxage=${ANSWER_CACHE_SECONDS}`);
    expect(ok.headers['content-type']).toBe('application/json');
    // A day: a 240th of it, 6 minutes, the step the hosted page aligns a day to.
    expect(mod.cacheableAtTheEdge(answer, 86_400_000).headers['cache-control']).toBe('public, max-age=0, s-maxage=360');
    expect(mod.cacheableAtTheEdge({ ...answer, statusCode: 400 }, 86_400_000).headers['cache-control']).toBe('no-store');
  });
});
