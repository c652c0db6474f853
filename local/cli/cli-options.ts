/** The command table (flags and usage text from one definition), pure parsing of CLI flag values and formatting of progress lines, kept apart so they are easy to test. */
import { parseArgs } from 'node:util';
import { UserError } from '../common/errors.ts';
import type { ProduceProgress, ProduceSummary } from '../produce/produce.ts';

/** One flag: its parser type, and for the usage text the value it takes and a note. */
interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** What the value looks like in the usage text (`N`, `S`, `N|max`); none for a boolean. */
  readonly value?: string;
  readonly note?: string;
  /** Not for people: left out of the usage text. */
  readonly internal?: true;
}

interface CommandSpec {
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

const PRODUCE_OPTIONS = {
  rate: { type: 'string', value: 'N|max' },
  count: { type: 'string', value: 'N' },
  duration: { type: 'string', value: 'S' },
  seed: { type: 'string', value: 'N' },
  flat: { type: 'boolean', note: 'a constant rate, not the daily curve' },
  'inject-duplicates': { type: 'string', value: 'SHARE' },
  'inject-late': { type: 'string', value: 'SHARE' },
  'inject-malformed': { type: 'string', value: 'SHARE' },
} as const satisfies Record<string, OptionSpec>;

/** `up` passes it so a service's command line names its state dir (see services/cli-service.ts). */
const INSTANCE = { instance: { type: 'string', internal: true } } as const satisfies Record<string, OptionSpec>;

/**
 * Every command with its flags: the one table the parser reads and the usage text
 * is written from, so neither can list what the other does not.
 */
export const COMMANDS = {
  run: {
    summary: 'start everything, produce simulated shopper events with a live status line until Ctrl-C or --duration, then stop what it started',
    options: PRODUCE_OPTIONS,
  },
  up: { summary: 'start the local Kafka broker, MinIO, the consumer, the dashboard and a supervisor that restarts any of them that dies (reuses ones already running)', options: {} },
  down: { summary: 'stop them', options: {} },
  status: { summary: 'services, what was restarted and when, consumer lag and what the lake holds', options: { json: { type: 'boolean' } } },
  produce: { summary: 'send simulated events to the topic', options: PRODUCE_OPTIONS },
  serve: { summary: 'run the dashboard and query API in the foreground', options: INSTANCE },
  consume: { summary: 'run the consumer (event-source-mapping runner + bundled handler) in the foreground', options: INSTANCE },
  supervise: { summary: 'run the supervisor in the foreground: restarts a service of this pipeline that died (up runs it)', options: INSTANCE },
  bench: {
    summary: 'every benchmark, each beside a baseline',
    options: {
      json: { type: 'boolean' },
      count: { type: 'string', value: 'N' },
      rounds: { type: 'string', value: 'N' },
      'lake-events': { type: 'string', value: 'N' },
      'step-seconds': { type: 'string', value: 'S', note: 'each rate step of the pipeline benchmark, default 20' },
      'api-events': { type: 'string', value: 'N' },
      'compaction-events': { type: 'string', value: 'N' },
      'collector-requests': { type: 'string', value: 'N', note: 'requests of 20 events per collector run, default 20,000' },
      only: {
        type: 'string',
        value: 'api|collector|compaction|dashboard|handler',
        note: "just the query API under load and the dashboard's Athena cost; the collector under load and through a broker restart; the compactor and what it saves; the local dashboard refresh over --lake-events events, no services; or the consumer core, its cold start and the Lambda bundle sizes, no services",
      },
    },
  },
} as const satisfies Record<string, CommandSpec>;

type Commands = typeof COMMANDS;

/** Each command's flags as the parser takes them. */
export const COMMAND_OPTIONS = Object.fromEntries(Object.entries(COMMANDS).map(([name, command]) => [name, command.options])) as {
  readonly [C in keyof Commands]: Commands[C]['options'];
};

const USAGE_WIDTH = 110;
const COMMAND_COLUMN = 13;

/** The command's name, then words laid into lines of at most USAGE_WIDTH, each line after the first indented to the command column. */
function wrap(name: string, words: readonly { readonly gap: string; readonly word: string }[]): string[] {
  const lines = [`  ${name}`.padEnd(COMMAND_COLUMN)];
  let fresh = true;
  for (const { gap, word } of words) {
    const last = lines.at(-1)!;
    if (!fresh && last.length + gap.length + word.length > USAGE_WIDTH) {
      lines.push(' '.repeat(COMMAND_COLUMN) + word);
    } else {
      lines[lines.length - 1] = fresh ? last + word : last + gap + word;
    }
    fresh = false;
  }
  return lines;
}

function usageOf(name: string, { summary, options }: CommandSpec): string[] {
  const flags = Object.entries(options)
    .filter(([, option]) => !option.internal)
    .map(([flag, option]) => `[--${flag}${option.value ? `\u00a0${option.value}` : ''}${option.note ? `\u00a0(${option.note})` : ''}]`);
  // Split at spaces, not at the no-break spaces that keep a flag, its value and the note's first word on one line.
  const words = (text: string, firstGap: string) => text.split(' ').map((word, i) => ({ gap: i === 0 ? firstGap : ' ', word: word.replaceAll('\u00a0', ' ') }));
  // The flags three spaces after the summary.
  return wrap(name, [...words(summary, ' '), ...flags.flatMap((flag, i) => words(flag, i === 0 ? '   ' : ' '))]);
}

export const USAGE = [
  'usage: npx clickstream <command> [options]',
  '',
  'commands:',
  ...Object.entries(COMMANDS).flatMap(([name, command]) => usageOf(name, command)),
  '',
  'configuration comes from CLICKSTREAM_* environment variables; see docs/operations.md',
].join('\n');

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
