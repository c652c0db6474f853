/**
 * What the dashboard page reads from config.json, shared by the page, the local
 * server and the CDK site that write it. The page aligns its time range to
 * `rangeStepMs` (`to` rounded up to a step, `from` = `to` − range), so repeated
 * refreshes and every viewer of the same range send the same URL until the next
 * step and share the cached answers; a step that matches the answer cache's TTL
 * makes at most one engine refresh per step, whatever the number of tabs.
 */

export interface DashboardConfig {
  /** Where the query API is: a path on the same origin or an http(s) URL. */
  readonly apiBaseUrl: string;
  /** How often the page asks for new answers. */
  readonly refreshMs: number;
  /** The grid the time range is aligned to; answers are at most this much behind. */
  readonly rangeStepMs: number;
}

export const DEFAULT_DASHBOARD_CONFIG: DashboardConfig = { apiBaseUrl: '/api', refreshMs: 5_000, rangeStepMs: 5_000 };

/** Bounds for both durations: a refresh under 0.5 s would only load the API, one over an hour is not a live dashboard. */
export const REFRESH_MS_RANGE = [500, 3_600_000] as const;
export const RANGE_STEP_MS_RANGE = [1, 3_600_000] as const;

/** config.json as the page received it; missing fields keep their defaults, bad ones throw a sentence. */
export function parseDashboardConfig(raw: unknown): DashboardConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('config.json must be a JSON object such as {"apiBaseUrl":"/api","refreshMs":5000,"rangeStepMs":5000}');
  const value = raw as Record<string, unknown>;
  const apiBaseUrl = value.apiBaseUrl ?? DEFAULT_DASHBOARD_CONFIG.apiBaseUrl;
  if (typeof apiBaseUrl !== 'string' || !/^(\/|https?:\/\/)[^\s?#]*$/.test(apiBaseUrl)) {
    throw new Error(`config.json apiBaseUrl must be a path starting with / or an http(s) URL, without a query, got ${JSON.stringify(apiBaseUrl).slice(0, 60)}`);
  }
  return {
    apiBaseUrl: apiBaseUrl.replace(/\/$/, ''),
    refreshMs: milliseconds(value, 'refreshMs', DEFAULT_DASHBOARD_CONFIG.refreshMs, REFRESH_MS_RANGE),
    rangeStepMs: milliseconds(value, 'rangeStepMs', DEFAULT_DASHBOARD_CONFIG.rangeStepMs, RANGE_STEP_MS_RANGE),
  };
}

function milliseconds(value: Record<string, unknown>, key: string, fallback: number, [min, max]: readonly [number, number]): number {
  const ms = value[key] ?? fallback;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < min || ms > max) {
    throw new Error(`config.json ${key} must be a whole number of milliseconds from ${min} to ${max}, got ${JSON.stringify(ms).slice(0, 40)}`);
  }
  return ms;
}

/** The range ending at the next step boundary at or after `nowMs`, `rangeMs` long. */
export function alignedRange(nowMs: number, rangeMs: number, stepMs: number): { fromMs: number; toMs: number } {
  const toMs = Math.ceil(nowMs / stepMs) * stepMs;
  return { fromMs: toMs - rangeMs, toMs };
}
