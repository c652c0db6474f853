/**
 * The local dashboard server's HTTP surface, against the one the integration
 * setup started: only named queries, clear 400s, no file outside the site.
 */
import { request } from 'node:http';
import { describe, expect, inject, it } from 'vitest';

const config = inject('config');

/** A raw request, so the path reaches the server exactly as written (fetch would normalise `..`). */
function get(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: config.dashboardPort, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local query server', () => {
  it('answers a named query with JSON and a strict content security policy', async () => {
    const response = await get('/api/query/kpis');
    expect(response.status).toBe(200);
    expect((JSON.parse(response.body) as { query: string }).query).toBe('kpis');
    expect(String(response.headers['content-security-policy'])).toContain("default-src 'self'");
  });

  it('answers every panel at /api/dashboard, each equal to its /api/query/<name> answer', async () => {
    const range = 'from=1700000000000&to=1700003600000';
    const response = await get(`/api/dashboard?${range}`);
    expect(response.status).toBe(200);
    const panels = (JSON.parse(response.body) as { panels: Record<string, unknown> }).panels;
    expect(Object.keys(panels)).toContain('kpis');
    expect(panels.funnel).toEqual(JSON.parse((await get(`/api/query/funnel?${range}`)).body));
  });

  it('tells the page to refresh every 2 s with ranges aligned to the 1 s lake sync, long ones too', async () => {
    expect(JSON.parse((await get('/config.json')).body)).toEqual({ apiBaseUrl: '/api', refreshMs: 2_000, rangeStepMs: 1_000, stepsPerRange: 0 });
  });

  it.each([
    ['/api/dashboard?country=usa', 400, /^\{"error":"country must be a two-letter ISO code in capitals, got \\"usa\\""\}$/],
    ['/api/dashboard?step=5', 400, /unknown parameter .{1,2}step.{1,2}: use from, to, device, source or country/],
    ['/api/dashboards', 404, /no such route: use \/api\/dashboard or \/api\/query\/<name>/],
    ['/api/query/%E0%A4%A', 400, /not valid percent-encoding/],
    ['/api/query/drop_tables', 400, /unknown query .{1,2}drop_tables.{1,2}: use one of kpis/],
    ['/api/query/kpis?from=yesterday', 400, /from must be/],
    ['/api/query/kpis?device=watch&device=mobile', 400, /^\{"error":"device is given more than once: give each parameter once"\}$/],
    ['/api/dashboard?from=2026-02-31T00:00Z', 400, /from must be an ISO 8601 instant/],
    ['/../../../etc/passwd', 404, /not found/],
    ['/%2e%2e/%2e%2e/etc/passwd', 404, /not found/],
  ])('answers %s with %d and a reason', async (path, status, reason) => {
    const response = await get(path);
    expect(response.status).toBe(status);
    expect(response.body).toMatch(reason);
  });

  it('refuses a request addressed to another host name (DNS rebinding), and serves its own names', async () => {
    const rebound = await get('/api/query/kpis', 'GET', { host: `attacker.example:${config.dashboardPort}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/answers only requests for http:\/\/127\.0\.0\.1:\d+\/, not for host "attacker\.example:\d+"/);
    expect((await get('/index.html', 'GET', { host: 'evil.test' })).status).toBe(403);
    expect((await get('/api/query/kpis', 'GET', { host: `localhost:${config.dashboardPort}` })).status).toBe(200);
  });

  it('refuses anything but GET and HEAD', async () => {
    expect((await get('/api/query/kpis', 'POST')).status).toBe(405);
  });
});
