/**
 * What the dashboard page reads from config.json, shared by the page, the local
 * server and the CDK site that write it. The page aligns its time range to
 * `rangeStepMs` (`to` rounded up to a step, `from` = `to` − range), so repeated
 * refreshes and every viewer of the same range send the same URL until the next
 * step and share the cached answers; a step that matches the answer cache's TTL
 * makes at most one engine refresh per step, whatever the number of tabs.
 * With `stepsPerRange`, a long range takes a longer step (rangeStepMs): a day's
 * answers change little in a minute, and each refresh of it reads the day.
 */

export interface DashboardConfig {
  /** Where the query API is: a path on the same origin or an http(s) URL. */
  readonly apiBaseUrl: string;
  /** How often the page asks for new answers. */
  readonly refreshMs: number;
  /** The grid the time range is aligned to; answers are at most this much behind. */
  readonly rangeStepMs: number;
  /** If above 0, a range longer than this many steps is aligned to a step of range / stepsPerRange instead (rangeStepMs). */
  readonly stepsPerRange: number;
}

export const DEFAULT_DASHBOARD_CONFIG: DashboardConfig = { apiBaseUrl: '/api', refreshMs: 5_000, rangeStepMs: 5_000, stepsPerRange: 0 };

/** Bounds for both durations: a refresh under 0.5 s would only load the API, one over an hour is not a live dashboard. */
export const REFRESH_MS_RANGE = [500, 3_600_000] as const;
export const RANGE_STEP_MS_RANGE = [1, 3_600_000] as const;
export const STEPS_PER_RANGE_RANGE = [0, 100_000] as const;

/** config.json as the page received it; missing fields keep their defaults, bad ones throw a sentence. */
export function parseDashboardConfig(raw: unknown): DashboardConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('config.json must be a JSON object such as {"apiBaseUrl":"/api","refreshMs":5000,"rangeStepMs":5000,"stepsPerRange":0}');
  const value = raw as Record<string, unknown>;
  const apiBaseUrl = value.apiBaseUrl ?? DEFAULT_DASHBOARD_CONFIG.apiBaseUrl;
  if (typeof apiBaseUrl !== 'string' || !/^(\/|https?:\/\/)[^\s?#]*$/.test(apiBaseUrl)) {
    throw new Error(`config.json apiBaseUrl must be a path starting with / or an http(s) URL, without a query, got ${JSON.stringify(apiBaseUrl).slice(0, 60)}`);
  }
  return {
    apiBaseUrl: apiBaseUrl.replace(/\/$/, ''),
    refreshMs: wholeNumber(value, 'refreshMs', 'milliseconds', DEFAULT_DASHBOARD_CONFIG.refreshMs, REFRESH_MS_RANGE),
    rangeStepMs: wholeNumber(value, 'rangeStepMs', 'milliseconds', DEFAULT_DASHBOARD_CONFIG.rangeStepMs, RANGE_STEP_MS_RANGE),
    stepsPerRange: wholeNumber(value, 'stepsPerRange', 'steps', DEFAULT_DASHBOARD_CONFIG.stepsPerRange, STEPS_PER_RANGE_RANGE),
  };
}

function wholeNumber(value: Record<string, unknown>, key: string, unit: string, fallback: number, [min, max]: readonly [number, number]): number {
  const n = value[key] ?? fallback;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`config.json ${key} must be a whole number of ${unit} from ${min} to ${max}, got ${JSON.stringify(n).slice(0, 40)}`);
  }
  return n;
}

/**
 * The step a range of `rangeMs` is aligned to: `minStepMs`, or with `stepsPerRange` above 0 and a range
 * longer than that many steps, about range / stepsPerRange, rounded up to whole `minStepMs` (so a day at
 * 240 steps of at least 30 s is aligned to 6 minutes, an hour still to 30 s). The page aligns its ranges
 * to it, and the hosted API keeps an answer that long (lambdas/query-api/limits.ts).
 */
export function rangeStepMs(rangeMs: number, minStepMs: number, stepsPerRange: number): number {
  if (!(stepsPerRange > 0)) return minStepMs;
  return Math.max(1, Math.ceil(rangeMs / stepsPerRange / minStepMs)) * minStepMs;
}

/** The range ending at the next step boundary at or after `nowMs`, `rangeMs` long. */
export function alignedRange(nowMs: number, rangeMs: number, stepMs: number): { fromMs: number; toMs: number } {
  const toMs = Math.ceil(nowMs / stepMs) * stepMs;
  return { fromMs: toMs - rangeMs, toMs };
}
