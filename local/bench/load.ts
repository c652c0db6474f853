/**
 * A bounded HTTP load: autocannon in a child process (so the server under test
 * keeps this process's core to itself), `connections` keep-alive connections to
 * one 127.0.0.1 URL, stopping after `requests` requests or `timeoutSeconds`,
 * whichever comes first (a run cut short by the clock is an error, not a figure).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

export interface LoadResult {
  readonly url: string;
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers that were not 2xx, and connection errors or timeouts. */
  readonly non2xx: number;
  readonly errors: number;
}

/** The part of autocannon's summary the benchmarks read (its JSON output, and the `done` event's result). */
export interface AutocannonJson {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function load(url: string, connections: number, requests: number, timeoutSeconds: number): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`the load benchmark only targets 127.0.0.1, got ${url}`);
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [bin, '--json', '--connections', String(connections), '--amount', String(requests), '--timeout', '30', url], { timeout: timeoutSeconds * 1000, maxBuffer: 16 * 2 ** 20 }, (error, out, err) => {
      if (!error) return resolve(out);
      reject(new Error(error.killed ? `${requests} requests to ${url} took more than ${timeoutSeconds} s: ask for fewer` : `the load run on ${url} failed: ${err.trim().split('\n').pop() ?? error.message}`));
    });
  });
  const r = JSON.parse(stdout) as AutocannonJson;
  return { url, requests: r.requests.total, seconds: r.duration, requestsPerSecond: r.requests.total / r.duration, p50Ms: r.latency.p50, p99Ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}
