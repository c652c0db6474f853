import { describe, expect, it } from 'vitest';
import { alignedRange, DEFAULT_DASHBOARD_CONFIG, parseDashboardConfig, rangeStepMs } from '../../../lambdas/query/dashboard-config.ts';
import { mapWithLimit } from '../../../lambdas/common/map-with-limit.ts';
import { ATHENA_WAIT_MS, DASHBOARD_QUERY_PARALLELISM, FUNCTION_TIMEOUT_SECONDS, ORIGIN_READ_TIMEOUT_SECONDS } from '../../../lambdas/query-api/limits.ts';
import { QUERY_NAMES } from '../../../lambdas/query/named-queries.ts';
import { queryString } from '../../../dashboard/src/format.ts';

describe('alignedRange', () => {
  const step = 30_000;
  const t = Date.UTC(2026, 10, 23, 12); // on a step boundary

  it('rounds to up to the next step and keeps the range length, so every moment in a step gives the same URL', () => {
    for (const now of [t + 1, t + 15_000, t + step]) expect(alignedRange(now, 3_600_000, step)).toEqual({ fromMs: t + step - 3_600_000, toMs: t + step });
    expect(alignedRange(t + step + 1, 3_600_000, step).toMs).toBe(t + 2 * step);
    expect(queryString(alignedRange(t + 1, 900_000, step), { device: '', country: 'de' })).toBe(queryString(alignedRange(t + 29_999, 900_000, step), { device: '', country: 'de' }));
  });
});

describe('rangeStepMs', () => {
  it('keeps the step up to stepsPerRange steps, then a whole number of steps about range / stepsPerRange; none without stepsPerRange', () => {
    const MINUTE = 60_000;
    expect([15, 60, 120, 360, 1_440, 10_080].map((m) => rangeStepMs(m * MINUTE, 30_000, 240) / 1000)).toEqual([30, 30, 30, 90, 360, 2_520]);
    expect(rangeStepMs(121 * MINUTE, 30_000, 240)).toBe(60_000); // just over 240 steps: the next whole step
    expect(rangeStepMs(1_440 * MINUTE, 2_000, 0)).toBe(2_000);
  });
});

describe('parseDashboardConfig', () => {
  it('takes a full config, fills in what is missing, and drops a trailing slash', () => {
    expect(parseDashboardConfig({ apiBaseUrl: 'https://example.com/api/', refreshMs: 10_000, rangeStepMs: 30_000, stepsPerRange: 240 })).toEqual({ apiBaseUrl: 'https://example.com/api', refreshMs: 10_000, rangeStepMs: 30_000, stepsPerRange: 240 });
    expect(parseDashboardConfig({})).toEqual(DEFAULT_DASHBOARD_CONFIG);
  });

  it.each([
    [[], 'config.json must be a JSON object such as {"apiBaseUrl":"/api","refreshMs":5000,"rangeStepMs":5000,"stepsPerRange":0}'],
    [null, /^config.json must be a JSON object/],
    [{ apiBaseUrl: 'api' }, 'config.json apiBaseUrl must be a path starting with / or an http(s) URL, without a query, got "api"'],
    [{ apiBaseUrl: '/api?x=1' }, /apiBaseUrl must be a path/],
    [{ apiBaseUrl: 5 }, /apiBaseUrl must be a path .* got 5$/],
    [{ refreshMs: 100 }, 'config.json refreshMs must be a whole number of milliseconds from 500 to 3600000, got 100'],
    [{ refreshMs: '5000' }, 'config.json refreshMs must be a whole number of milliseconds from 500 to 3600000, got "5000"'],
    [{ rangeStepMs: 0 }, 'config.json rangeStepMs must be a whole number of milliseconds from 1 to 3600000, got 0'],
    [{ rangeStepMs: 1.5 }, /rangeStepMs must be a whole number/],
    [{ rangeStepMs: 7_200_000 }, /rangeStepMs must be .* got 7200000$/],
    [{ stepsPerRange: -1 }, 'config.json stepsPerRange must be a whole number of steps from 0 to 100000, got -1'],
    [{ stepsPerRange: '240' }, /stepsPerRange must be a whole number of steps .* got "240"$/],
  ])('refuses %j with one sentence', (raw, message) => {
    expect(() => parseDashboardConfig(raw)).toThrow(message);
  });
});

describe('mapWithLimit', () => {
  it('keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapWithLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure, and refuses a limit below one', async () => {
    await expect(mapWithLimit([1, 2], 2, (n) => (n === 2 ? Promise.reject(new Error('two')) : Promise.resolve(n)))).rejects.toThrow('two');
    await expect(mapWithLimit([1], 0, (n) => Promise.resolve(n))).rejects.toThrow('limit must be a whole number, at least 1, got 0');
  });

  it('starts nothing more after a failure (each call may be a billed Athena query)', async () => {
    const started: number[] = [];
    const run = mapWithLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, 5));
      if (n === 1) throw new Error('one');
      return n;
    });
    await expect(run).rejects.toThrow('one');
    await new Promise((r) => setTimeout(r, 30));
    // 1 and 2 ran together; 1 failed, so of the rest only what 2's worker took before hearing of it may start.
    expect(started.length).toBeLessThanOrEqual(3);
  });
});

describe('cloud query API limits', () => {
  it('nest: the one Athena wait of a dashboard request (its statements run at once) < function timeout < origin read timeout', () => {
    // One statement, or the named queries where the statement is too long: all at once either way.
    expect(DASHBOARD_QUERY_PARALLELISM).toBeGreaterThanOrEqual(QUERY_NAMES.length);
    expect(ATHENA_WAIT_MS).toBeLessThan(FUNCTION_TIMEOUT_SECONDS * 1000);
    expect(FUNCTION_TIMEOUT_SECONDS).toBeLessThan(ORIGIN_READ_TIMEOUT_SECONDS);
  });
});
