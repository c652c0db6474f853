/**
 * The compaction manifest (`_compaction/manifest.json`): the one object that
 * says what a reader reads. For each compacted hour it names the files of the
 * committed generation; it lists the late files already folded into compacted
 * hours, and the files waiting to be deleted. The compactor replaces it with a
 * conditional PUT (If-Match), so of two compactors only one commits; readers
 * read it once per answer. The protocol is in docs/architecture.md ("Compaction").
 */
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import type { RollupName } from '../query/rollups.ts';

export const MANIFEST_KEY = `${LAKE_PREFIXES.compaction}manifest.json`;

export interface CompactedFile {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface CompactedHour {
  /** Counts up from 1 each time the hour is written again (a late event folded in). */
  readonly generation: number;
  readonly files: readonly CompactedFile[];
  readonly rows: number;
  readonly committedAtMs: number;
  /** When the hour's raw files may be deleted (no query started before its first commit still runs); absent once they are. */
  readonly rawDeleteAfterMs?: number;
  /** The generation's rollup files, one per rollup (absent for an hour compacted before rollups existed: the next run adds them). */
  readonly rollups?: RollupFiles;
  /**
   * Late files not folded yet whose rows of this hour this generation holds: a file is folded once
   * every hour it has rows in holds it, so a run that stops midway keeps the hours it committed, and
   * the next run reads a late file only for the hours that do not hold it yet. Readers ignore it.
   */
  readonly lateKeys?: readonly string[];
}

/**
 * Rollup → the key of its file for one hour. An hour compacted before 2026-12-05 has no
 * `product_minutes`, and its `sessions` file no last times; nor has an hour with more product
 * minutes than a run holds (MAX_PRODUCT_MINUTE_GROUPS). Queries read the partial first hour of a
 * range in either from its events (dashboard-statement.ts, suffixOf): an entry with `product_minutes`
 * is one written with last times.
 */
export type RollupFiles = Readonly<Record<Exclude<RollupName, 'product_minutes'>, string>> & { readonly product_minutes?: string };

/** An hour the compactor could not compact with its slice budget (one session with more events than a slice holds). */
export interface StuckHour {
  /** Its input files' bytes then (raw, or its committed generation's): other files are a reason to try again. */
  readonly inputBytes: number;
  /** The slice budget of a thread it failed with: a bigger one (more memory) is a reason to try again. */
  readonly sliceRows: number;
  /** The late files it was merged with: a session's copies count until merged, so with more than one it is tried again with one. */
  readonly lateFiles: number;
  readonly reason: string;
}

export interface Manifest {
  readonly version: 1;
  /** Keyed by the hour's partition path, `year=YYYY/month=MM/day=DD/hour=HH`. */
  readonly hours: Readonly<Record<string, CompactedHour>>;
  /**
   * Hours that failed (keyed like `hours`), with what they failed with, so that later runs try them
   * again only when that changed, and the hours behind them are not held up. Readers ignore it.
   */
  readonly stuck?: Readonly<Record<string, StuckHour>>;
  /** Late files whose rows are in compacted hours, and when each may be deleted. */
  readonly folded: Readonly<Record<string, number>>;
  /** Files of superseded generations, and when each may be deleted. */
  readonly garbage: Readonly<Record<string, number>>;
}

export const EMPTY_MANIFEST: Manifest = { version: 1, hours: {}, folded: {}, garbage: {} };

/** The manifest from its stored bytes (absent: nothing compacted yet). Plain Uint8Array, no Node types: the dashboard's build includes this file. */
export function parseManifest(body: Uint8Array | undefined): Manifest {
  if (!body) return EMPTY_MANIFEST;
  let parsed: Partial<Manifest>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body)) as Partial<Manifest>;
  } catch {
    throw new Error(`the compaction manifest ${MANIFEST_KEY} is not JSON: restore it from the bucket's versions, or delete it to compact every hour again`);
  }
  if (parsed.version !== 1) throw new Error(`the compaction manifest ${MANIFEST_KEY} has an unknown format (version ${String(parsed.version)}): this code reads version 1`);
  const isRecord = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const hoursOk = isRecord(parsed.hours) && Object.values(parsed.hours!).every((h) => isRecord(h) && (h.lateKeys === undefined || Array.isArray(h.lateKeys)));
  if (!hoursOk || !isRecord(parsed.folded) || !isRecord(parsed.garbage) || (parsed.stuck !== undefined && !isRecord(parsed.stuck))) {
    throw new Error(`the compaction manifest ${MANIFEST_KEY} is damaged (a field has the wrong shape): restore it from the bucket's versions, or delete it to compact every hour again`);
  }
  return parsed as Manifest;
}

export function serializeManifest(manifest: Manifest): string {
  return JSON.stringify(manifest);
}

/** What a query needs from the lake's state: the compacted hours' files, their rollups, and the late files not folded in yet. */
export interface LakeView {
  /**
   * Hour start (ms) → keys of files holding each of its events once: the committed compacted files,
   * and where a reader reads open hours folded (lake-view-source.ts), the parts of hours not compacted.
   */
  readonly compacted: ReadonlyMap<number, readonly string[]>;
  /**
   * Hour start (ms) → its rollups: the committed files (over the files, Athena), or `'tables'` when
   * the engine keeps them in its own tables, always equal to its events (the local engine).
   */
  readonly rollups: ReadonlyMap<number, RollupFiles | 'tables'>;
  /** Late files (keys) whose rows may be in no compacted hour yet. */
  readonly unfoldedLate: readonly string[];
}

export const EMPTY_VIEW: LakeView = { compacted: new Map(), rollups: new Map(), unfoldedLate: [] };

/**
 * The view of a manifest and a listing of late/, as a reader takes it at the start of an answer; with
 * `folded` (hour path → the parts its open-hour record names), the hours not compacted that have parts
 * are read from them as if compacted: what the folds have read of them, each event once.
 */
export function lakeView(manifest: Manifest, lateKeys: readonly string[], folded: ReadonlyMap<string, readonly string[]> = new Map()): LakeView {
  const compacted = new Map<number, readonly string[]>();
  const rollups = new Map<number, RollupFiles>();
  for (const [hour, parts] of folded) if (!(hour in manifest.hours) && parts.length > 0) compacted.set(hourStartOf(hour), parts);
  for (const [hour, entry] of Object.entries(manifest.hours)) {
    compacted.set(hourStartOf(hour), entry.files.map((f) => f.key));
    if (entry.rollups) rollups.set(hourStartOf(hour), entry.rollups);
  }
  return { compacted, rollups, unfoldedLate: lateKeys.filter((key) => !(key in manifest.folded)) };
}

/**
 * The event files a reader reads now, out of those listed: the committed compacted files, the
 * raw files of hours not compacted, the late files not folded. (Everything else is awaiting
 * deletion or was never committed.)
 */
export function readableEventKeys(manifest: Manifest, listed: { readonly raw: readonly string[]; readonly late: readonly string[] }): string[] {
  const compacted = Object.values(manifest.hours).flatMap((h) => h.files.map((f) => f.key));
  const hourOf = (key: string) => key.split('/').slice(1, 5).join('/');
  return [...compacted, ...listed.raw.filter((key) => !(hourOf(key) in manifest.hours)), ...listed.late.filter((key) => !(key in manifest.folded))];
}

/** `year=2026/month=12/day=03/hour=10` → its start in ms (UTC). */
export function hourStartOf(hourPath: string): number {
  const match = /^year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})$/.exec(hourPath);
  if (!match) throw new Error(`${hourPath} is not an hour partition (year=YYYY/month=MM/day=DD/hour=HH)`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4]));
}
