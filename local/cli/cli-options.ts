/** Pure parsing of CLI flag values and formatting of progress lines, kept apart so they are easy to test. */
import { parseArgs } from 'node:util';
import { UserError } from '../common/errors.ts';
import type { ProduceProgress, ProduceSummary } from '../produce/produce.ts';

const PRODUCE_OPTIONS = {
  rate: { type: 'string' },
  count: { type: 'string' },
  duration: { type: 'string' },
  seed: { type: 'string' },
  flat: { type: 'boolean' },
  'inject-duplicates': { type: 'string' },
  'inject-late': { type: 'string' },
  'inject-malformed': { type: 'string' },
} as const;

/**
 * Every command's flags, in the one table the parser reads; a unit test checks that
 * each appears in USAGE under its command. `--instance` is not for people: `up`
 * passes it so a service's command line names its state dir (see cli-service.ts).
 */
export const COMMAND_OPTIONS = {
  run: PRODUCE_OPTIONS,
  up: {},
  down: {},
  status: { json: { type: 'boolean' } },
  produce: PRODUCE_OPTIONS,
  serve: { instance: { type: 'string' } },
  consume: { instance: { type: 'string' } },
  supervise: { instance: { type: 'string' } },
  bench: {
    json: { type: 'boolean' },
    count: { type: 'string' },
    rounds: { type: 'string' },
    'lake-events': { type: 'string' },
    'step-seconds': { type: 'string' },
    only: { type: 'string' },
    'api-events': { type: 'string' },
    'compaction-events': { type: 'string' },
  },
} as const;

export const USAGE = `usage: npx clickstream <command> [options]

commands:
  run        start everything, produce simulated shopper events with a live status line until
             Ctrl-C or --duration, then stop what it started   [--rate N|max] [--count N] [--duration S]
             [--seed N] [--flat] [--inject-duplicates SHARE] [--inject-late SHARE] [--inject-malformed SHARE]
  up         start the local Kafka broker, MinIO, the consumer, the dashboard and a supervisor that restarts
             any of them that dies (reuses ones already running)
  down       stop them
  status     services, what was restarted and when, consumer lag and what the lake holds   [--json]
  produce    send simulated events to the topic   [--rate N|max] [--count N] [--duration S]
             [--seed N] [--flat (a constant rate, not the daily curve)] [--inject-duplicates SHARE] [--inject-late SHARE] [--inject-malformed SHARE]
  serve      run the dashboard and query API in the foreground
  consume    run the consumer (event-source-mapping runner + bundled handler) in the foreground
  supervise  run the supervisor in the foreground: restarts a service of this pipeline that died (up runs it)
  bench      every benchmark, each beside a baseline   [--json] [--count N] [--rounds N] [--lake-events N]
             [--step-seconds S (each rate step of the pipeline benchmark, default 20)] [--api-events N]
             [--compaction-events N] [--only api|compaction|handler (just the query API under load and the
             dashboard's Athena cost; the compactor and what it saves; or the consumer core, its cold start
             and the Lambda bundle sizes, no services)]

configuration comes from CLICKSTREAM_* environment variables; see docs/operations.md`;

/** A command's flags, strictly: an unknown flag or a missing value is a one-line UserError. */
export function parseFlags<T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UserError(`${(error as Error).message.split('\n')[0]}; run \`npx clickstream help\` for the options`);
  }
}

export function parseRate(value: string): number | 'max' {
  if (value === 'max') return 'max';
  const rate = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(rate > 0) || rate > 10_000_000) {
    throw new UserError(`--rate must be events per second (a number above 0, at most 10000000) or "max", got "${value}"`);
  }
  return rate;
}

export function parseCount(flag: string, value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || !Number.isSafeInteger(count)) {
    throw new UserError(`${flag} must be a whole number of at least 1, got "${value}"`);
  }
  return count;
}

export function parseSeconds(flag: string, value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0)) {
    throw new UserError(`${flag} must be a number of seconds above 0, got "${value}"`);
  }
  return seconds;
}

export function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value) || seed > 2 ** 32 - 1) {
    throw new UserError(`--seed must be a whole number from 0 to 4294967295, got "${value}"`);
  }
  return seed;
}

/** A share between 0 and 1 (`0.01` is one record in a hundred); absent means 0. */
export function parseShare(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const share = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || share > 1) {
    throw new UserError(`${flag} must be a share from 0 to 1 (0.01 is one record in a hundred), got "${value}"`);
  }
  return share;
}

/** A count for people: rounded, with thousands separators. */
export const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatProgress(p: ProduceProgress): string {
  const parts = [`sent ${thousands(p.sent)}`, `${thousands(p.eventsPerSecond)}/s`, `errors ${thousands(p.errors)}`, `${Math.floor(p.elapsedSeconds)}s`];
  // While the broker is away the simulator waits: say so, and why, rather than show a rate of 0.
  if (p.retrying > 0) parts.push(`broker not acknowledging, ${thousands(p.retrying)} events held and retried`);
  if (p.lastError) parts.push(`last error: ${p.lastError}`);
  return parts.join('  ');
}

export function formatSummary(s: ProduceSummary): string {
  const retried = s.retries > 0 ? `, ${thousands(s.retries)} batches sent again after the broker did not acknowledge them` : '';
  const line = `sent ${thousands(s.sent)} events in ${s.elapsedSeconds.toFixed(1)}s (${thousands(s.eventsPerSecond)}/s), ${thousands(s.errors)} not acknowledged${retried}`;
  return s.lastError ? `${line}; last error: ${s.lastError}` : line;
}
