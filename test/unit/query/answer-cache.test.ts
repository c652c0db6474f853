/**
 * The query API's cache under load, with an engine whose queries finish only when
 * the test says so: one engine call for N identical concurrent requests, expiry
 * counted from completion, failures not kept, a bounded number of answers.
 */
import { describe, expect, it } from 'vitest';
import { AnswerCache } from '../../../lambdas/query/answer-cache.ts';
import { duckdbDialect } from '../../../lambdas/query/dialect.ts';
import { QUERY_NAMES } from '../../../lambdas/query/named-queries.ts';
import { QueryApi, type QueryEngine, type Row } from '../../../lambdas/query/query-api.ts';
import { answerCacheMs } from '../../../lambdas/query-api/limits.ts';

/** An engine whose every query waits for `finish()` (or `fail()`), counting calls and the most running at once. */
class SlowEngine implements QueryEngine {
  readonly dialect = duckdbDialect('lake_events', 'lake_quarantine');
  readonly sql: string[] = [];
  running = 0;
  mostRunning = 0;
  private waiting: { resolve: (rows: Row[]) => void; reject: (error: Error) => void }[] = [];

  run(sql: string): Promise<Row[]> {
    this.sql.push(sql);
    this.running++;
    this.mostRunning = Math.max(this.mostRunning, this.running);
    return new Promise<Row[]>((resolve, reject) => this.waiting.push({ resolve, reject })).finally(() => this.running--);
  }

  /** Finishes every query started so far; returns how many. */
  async finish(rows: Row[] = [{ events: 1 }]): Promise<number> {
    const done = this.waiting.splice(0);
    for (const w of done) w.resolve(rows);
    await flush();
    return done.length;
  }

  async fail(): Promise<void> {
    for (const w of this.waiting.splice(0)) w.reject(new Error('engine down'));
    await flush();
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const RANGE = { from: '2026-11-23T10:00:00Z', to: '2026-11-23T11:00:00Z' };

function setup(cacheMs: ConstructorParameters<typeof QueryApi>[0]['cacheMs'] = 1_000) {
  const clock = { ms: Date.UTC(2026, 10, 23, 11) };
  const engine = new SlowEngine();
  const api = new QueryApi({ engine, cacheMs, now: () => clock.ms });
  return { clock, engine, api };
}

describe('QueryApi cache', () => {
  it('runs one engine query for 50 identical concurrent requests, and gives all of them its answer', async () => {
    const { engine, api } = setup();
    const requests = Array.from({ length: 50 }, () => api.handle('kpis', RANGE));
    await flush();
    expect(engine.sql).toHaveLength(1);
    expect(await engine.finish([{ events: 42 }])).toBe(1);
    const answers = await Promise.all(requests);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers.every((a) => a.statusCode === 200 && a.body.includes('"events":42'))).toBe(true);
  });

  it('counts the expiry from when the query finished, so a query slower than the TTL is still reused', async () => {
    const { clock, engine, api } = setup(1_000);
    const first = api.handle('kpis', RANGE);
    clock.ms += 5_000; // the query takes five TTLs
    await engine.finish();
    await first;
    clock.ms += 999;
    const reused = api.handle('kpis', RANGE);
    await flush();
    expect(engine.sql).toHaveLength(1);
    await reused;
    clock.ms += 1;
    const later = api.handle('kpis', RANGE);
    await flush();
    expect(engine.sql).toHaveLength(2);
    await engine.finish();
    await later;
  });

  it('does not keep a failure: everyone waiting gets it, the next request asks the engine again', async () => {
    const { engine, api } = setup();
    const waiting = [api.handle('funnel', RANGE), api.handle('funnel', RANGE)].map((w) => w.then(() => 'answered', (error: Error) => error.message));
    await flush();
    await engine.fail();
    expect(await Promise.all(waiting)).toEqual(['engine down', 'engine down']);
    expect(engine.sql).toHaveLength(1);
    const retry = api.handle('funnel', RANGE);
    await flush();
    expect(engine.sql).toHaveLength(2);
    await engine.finish();
    expect((await retry).statusCode).toBe(200);
  });

  it('forgets a computation that throws before returning a promise', async () => {
    const cache = new AnswerCache<string>({ ttlMs: 60_000 });
    await expect(cache.get('k', () => { throw new Error('at once'); })).rejects.toThrow('at once');
    expect(await cache.get('k', () => Promise.resolve('ok'))).toBe('ok');
  });

  it('keeps apart requests that differ in a parameter', async () => {
    const { engine, api } = setup();
    const both = [api.handle('kpis', RANGE), api.handle('kpis', { ...RANGE, device: 'mobile' })];
    await flush();
    expect(await engine.finish()).toBe(2);
    await Promise.all(both);
  });

  it('keeps an answer as long as cacheMs gives for its range: the hosted rule keeps a day 6 minutes, an hour 30 s', async () => {
    const { clock, engine, api } = setup(answerCacheMs);
    const DAY = { from: '2026-11-22T11:00:00Z', to: RANGE.to };
    const ask = async (params: Record<string, string>) => {
      const before = engine.sql.length;
      const answer = api.handle('kpis', params);
      await flush();
      await engine.finish();
      await answer;
      return engine.sql.length - before;
    };
    expect([await ask(RANGE), await ask(DAY)]).toEqual([1, 1]);
    clock.ms += 30_000;
    expect([await ask(RANGE), await ask(DAY)]).toEqual([1, 0]);
    clock.ms += 330_000; // 6 minutes after the day's answer
    expect(await ask(DAY)).toBe(1);
    // The page's day, ending 100 s ahead (its 6-minute step's end): kept until then, when the page moves on.
    const PAGE_DAY = { from: String(clock.ms + 100_000 - 86_400_000), to: String(clock.ms + 100_000) };
    expect(await ask(PAGE_DAY)).toBe(1);
    clock.ms += 99_999;
    expect(await ask(PAGE_DAY)).toBe(0);
    clock.ms += 1;
    expect(await ask(PAGE_DAY)).toBe(1);
  });

  it('with caching off (0) every request reaches the engine', async () => {
    const { engine, api } = setup(0);
    const both = [api.handle('kpis', RANGE), api.handle('kpis', RANGE)];
    await flush();
    expect(await engine.finish()).toBe(2);
    await Promise.all(both);
  });
});

describe('QueryApi /api/dashboard', () => {
  it('answers every panel in one request, at most dashboardParallelism queries at once, quarantine without filters', async () => {
    const engine = new SlowEngine();
    const api = new QueryApi({ engine, dashboardParallelism: 3, now: () => Date.UTC(2026, 10, 23, 11) });
    const answer = api.handlePath('/api/dashboard', { ...RANGE, device: 'tablet' });
    for (let i = 0; i < 20 && engine.running > 0; i++) await engine.finish();
    const response = await answer;
    expect(response.statusCode).toBe(200);
    expect(engine.sql).toHaveLength(QUERY_NAMES.length);
    expect(engine.mostRunning).toBe(3);
    const body = JSON.parse(response.body) as { parameters: { device: string }; panels: Record<string, { query: string; parameters: { device?: string }; rows: Row[] }> };
    expect(Object.keys(body.panels)).toEqual([...QUERY_NAMES]);
    for (const name of QUERY_NAMES) expect(body.panels[name]!.query).toBe(name);
    // Started the most work first (kpis, then demographics), so the engine's readers finish together.
    expect([engine.sql[0], engine.sql[1]]).toEqual([expect.stringContaining('AS active_users'), expect.stringContaining('AS age_group')]);
    expect(body.parameters.device).toBe('tablet');
    expect(body.panels.kpis!.parameters.device).toBe('tablet');
    expect(body.panels.quarantine!.parameters.device).toBeUndefined();
  });

  it('shares its panels with /api/query/<name> for the same parameters', async () => {
    const engine = new SlowEngine();
    const api = new QueryApi({ engine, now: () => Date.UTC(2026, 10, 23, 11) });
    const single = api.handle('kpis', RANGE);
    await flush();
    const dashboard = api.handlePath('/api/dashboard', RANGE);
    for (let i = 0; i < 20 && engine.running > 0; i++) await engine.finish();
    const kpis = (JSON.parse((await dashboard).body) as { panels: { kpis: unknown } }).panels.kpis;
    expect(kpis).toEqual(JSON.parse((await single).body));
    expect(engine.sql).toHaveLength(QUERY_NAMES.length);
  });

  it.each([
    ['/api/dashboard', { limit: '5' }, 400, 'unknown parameter "limit": use from, to, device, source or country'],
    ['/api/dashboard', { device: 'watch' }, 400, 'device must be one of desktop, mobile, tablet, bot, got "watch"'],
    ['/api/dashboard', { from: 'yesterday' }, 400, /^from must be an ISO 8601 instant/],
    ['/api/dashboard/kpis', {}, 404, 'no such route: use /api/dashboard or /api/query/<name>'],
    ['/api/dashboards', {}, 404, 'no such route: use /api/dashboard or /api/query/<name>'],
  ])('answers %s %j with %d and one sentence', async (path, query, status, message) => {
    const { api, engine } = setup();
    const response = await api.handlePath(path, query);
    expect(response.statusCode).toBe(status);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(message);
    expect(engine.sql).toHaveLength(0);
  });
});

describe('AnswerCache', () => {
  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const cache = new AnswerCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    let computed = 0;
    const value = (v: string) => () => {
      computed++;
      return Promise.resolve(v);
    };
    await cache.get('a', value('a'));
    await cache.get('b', value('b'));
    await cache.get('a', value('a')); // a is now the most recently used
    await cache.get('c', value('c'));
    expect(cache.size).toBe(2);
    expect(computed).toBe(3);
    await cache.get('a', value('a'));
    expect(computed).toBe(3);
    await cache.get('b', value('b'));
    expect(computed).toBe(4);
  });

  it('over the bound, drops expired answers before a fresh one used longer ago', async () => {
    const clock = { ms: 0 };
    const cache = new AnswerCache<string>({ ttlMs: 1_000, maxEntries: 2, now: () => clock.ms });
    let computed = 0;
    const value = (v: string) => () => {
      computed++;
      return Promise.resolve(v);
    };
    await cache.get('day', value('day'), 360_000);
    await cache.get('hour', value('hour'));
    clock.ms += 2_000; // the hour's answer has expired, the day's has not
    await cache.get('other', value('other'));
    expect(cache.size).toBe(2);
    await cache.get('day', value('day'), 360_000);
    expect(computed).toBe(3);
  });

  it.each([
    [{ ttlMs: -1 }, "the answer cache's ttlMs must be a whole number of milliseconds, at least 0, got -1"],
    [{ ttlMs: 1.5 }, /ttlMs must be a whole number/],
    [{ ttlMs: 1, maxEntries: 0 }, "the answer cache's maxEntries must be a whole number, at least 1, got 0"],
  ])('refuses %j', (options, message) => {
    expect(() => new AnswerCache(options)).toThrow(message);
  });
});
