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

  it('lets CloudFront keep a 200 answer as long as it is given, browsers revalidate; not an error', () => {
    const answer = { statusCode: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: '{}' };
    const ok = mod.cacheableAtTheEdge(answer, ANSWER_CACHE_SECONDS * 1000);
    expect(ok.headers['cache-control']).toBe(`public, max-age=0, s-maxage=${ANSWER_CACHE_SECONDS}`);
    expect(ok.headers['content-type']).toBe('application/json');
    expect(mod.cacheableAtTheEdge({ ...answer, statusCode: 400 }, 360_000).headers['cache-control']).toBe('no-store');
  });

  it('keeps an answer at the edge: the page\'s range until its end, an ended day its 6-minute step, anything else 30 s', () => {
    const now = Date.UTC(2026, 11, 4, 12, 1, 40); // 100 s past a 6-minute boundary
    const DAY = 86_400_000;
    const range = (fromMs: number, toMs: number) => ({ from: String(fromMs), to: String(toMs) });
    const pageTo = Date.UTC(2026, 11, 4, 12, 6); // the page's day: `to` rounded up to 6 minutes
    expect(mod.edgeCacheMs(range(pageTo - DAY, pageTo), now)).toBe(260_000);
    expect(mod.edgeCacheMs(range(now - 3_600_000 + 20_000, now + 20_000), now)).toBe(20_000); // the page's hour
    expect(mod.edgeCacheMs(range(now - 2 * DAY, now - DAY), now)).toBe(360_000); // a day that has ended
    expect(mod.edgeCacheMs(range(now - DAY, now + 3_600_000), now)).toBe(ANSWER_CACHE_SECONDS * 1000); // ends further ahead than its step
    expect(mod.edgeCacheMs({ from: String(now - 30 * DAY) }, now)).toBe(ANSWER_CACHE_SECONDS * 1000); // ends at the clock: a new range each time
    expect(mod.edgeCacheMs({}, now)).toBe(ANSWER_CACHE_SECONDS * 1000);
  });
});
