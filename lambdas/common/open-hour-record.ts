/**
 * The record of an open hour's folds (`_compaction/open/<hour>.json`): the parts the
 * compactor has folded the hour's raw files into so far, one row per event_id across
 * them all, and how far it got in each source partition. The protocol is in
 * docs/architecture.md ("Folding the open hour").
 *
 * Why offsets and not a list of files: a consumer writes a source partition's batches
 * one after another, each batch's files before the next batch starts, and names a raw
 * file after the batch's first and last offsets (lake-keys.ts). So once a fold has read
 * a partition's file ending at offset N, every raw file of the hour from that partition
 * ending at or before N was already there and was read too (or holds copies of records
 * read: a retried or replayed batch). The record's offsets stay a few hundred bytes however
 * many files the hour has; its parts take about 150 bytes each. Plain Uint8Array, no Node types: readers' builds include it.
 */
import { LAKE_PREFIXES } from './pipeline-names.ts';

export interface FoldedPart {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
  /** Its rows' latest ingest time: a copy ingested after it can never be the one its hour keeps. */
  readonly maxIngestMs: number;
  /** How many folds' new rows it holds, when parts were merged into it (fold-open-hours.ts, mergeTail); absent: one. */
  readonly folds?: number;
}

export interface OpenHourRecord {
  readonly version: 1;
  /** The parts, oldest first: no event_id is in two of them. */
  readonly parts: readonly FoldedPart[];
  /** `<topic>/<partition>` → the last offset (decimal text) of the newest raw file folded from it. */
  readonly folded: Readonly<Record<string, string>>;
  readonly foldedAtMs: number;
  /** Parts written again (a new copy replaced one of their events) or merged into another, and when a reader that took them is done: the sweep keeps them till then. */
  readonly replaced?: Readonly<Record<string, number>>;
  /** Raw files of the hour whose names are not a consumer's (no offset says whether they were folded): while there are any, readers read the hour raw. */
  readonly unknownFiles?: number;
  /** Why the last fold of the hour failed: until one succeeds, readers read the hour raw. */
  readonly failing?: string;
  /** The hour settled and every raw file is folded: later folds pass it by until the compactor commits it. */
  readonly complete?: boolean;
}

export const EMPTY_OPEN_HOUR: OpenHourRecord = { version: 1, parts: [], folded: {}, foldedAtMs: 0 };

/** Where the open hours' records live. */
export const OPEN_HOURS_PREFIX = `${LAKE_PREFIXES.compaction}open/`;

/** Where the record of the hour `year=…/hour=HH` lives. */
export function openHourKey(hour: string): string {
  return `${OPEN_HOURS_PREFIX}${hour}.json`;
}

/** The hour (`year=…/hour=HH`) an open-hour record's key names, or undefined for another key. */
export function hourOfOpenHourKey(key: string): string | undefined {
  return key.startsWith(OPEN_HOURS_PREFIX) && key.endsWith('.json') ? key.slice(OPEN_HOURS_PREFIX.length, -'.json'.length) : undefined;
}

export function parseOpenHourRecord(key: string, body: Uint8Array | undefined): OpenHourRecord {
  if (!body) return EMPTY_OPEN_HOUR;
  const damaged = `the open-hour record ${key} is damaged: delete it, and the hour's raw files are folded again from the start`;
  let parsed: Partial<OpenHourRecord>;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body)) as Partial<OpenHourRecord>;
  } catch {
    throw new Error(damaged);
  }
  const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isRecord(parsed) || parsed.version !== 1) throw new Error(`the open-hour record ${key} has an unknown format (version ${String(isRecord(parsed) ? parsed.version : undefined)}): this code reads version 1`);
  const partsOk = Array.isArray(parsed.parts) && parsed.parts.every((p) => isRecord(p) && typeof p.key === 'string' && Number.isFinite(p.rows) && Number.isFinite(p.maxIngestMs) && (p.folds === undefined || (Number.isInteger(p.folds) && (p.folds as number) >= 1)));
  const foldedOk = isRecord(parsed.folded) && Object.values(parsed.folded).every((offset) => typeof offset === 'string' && /^\d+$/.test(offset));
  const replacedOk = parsed.replaced === undefined || (isRecord(parsed.replaced) && Object.values(parsed.replaced).every(Number.isFinite));
  const unknownOk = parsed.unknownFiles === undefined || Number.isInteger(parsed.unknownFiles);
  const flagsOk = (parsed.failing === undefined || typeof parsed.failing === 'string') && (parsed.complete === undefined || typeof parsed.complete === 'boolean');
  if (!partsOk || !foldedOk || !replacedOk || !unknownOk || !flagsOk || !Number.isFinite(parsed.foldedAtMs)) throw new Error(damaged);
  return parsed as OpenHourRecord;
}

export function serializeOpenHourRecord(record: OpenHourRecord): string {
  return JSON.stringify(record);
}

/** Whether readers may read the hour from its parts: no fold is failing on it, and every raw file is one a fold can read. */
export function partsReadable(record: OpenHourRecord): boolean {
  return record.failing === undefined && !record.unknownFiles;
}

/**
 * Every open hour's record, as a reader or the sweep takes them: the hour, and its record, or undefined
 * where it is damaged (the fold reports that; readers read the hour raw, the sweep spares its parts).
 */
export async function readOpenHourRecords(store: { list(prefix: string): Promise<readonly { readonly key: string }[]>; get(key: string): Promise<{ readonly body: Uint8Array } | undefined> }, wanted: (hour: string) => boolean = () => true): Promise<{ readonly hour: string; readonly record: OpenHourRecord | undefined }[]> {
  const hours = (await store.list(OPEN_HOURS_PREFIX)).map((o) => hourOfOpenHourKey(o.key)).filter((hour): hour is string => hour !== undefined && wanted(hour));
  return Promise.all(
    hours.map(async (hour) => {
      try {
        return { hour, record: parseOpenHourRecord(openHourKey(hour), (await store.get(openHourKey(hour)))?.body) };
      } catch {
        return { hour, record: undefined };
      }
    }),
  );
}

/** Every part file a record names: its parts, and those written again that a reader may still be reading. */
export function namedParts(record: OpenHourRecord): string[] {
  return [...record.parts.map((p) => p.key), ...Object.keys(record.replaced ?? {})];
}

/** A raw file's source partition (`<topic>/<partition>`) and last offset, from its name; undefined for a name the consumer does not write. */
export function rawFileSource(key: string): { readonly source: string; readonly lastOffset: bigint } | undefined {
  const match = /\/([^/]+)-p(\d+)-o\d+-(\d+)\.parquet$/.exec(key);
  return match ? { source: `${match[1]}/${match[2]}`, lastOffset: BigInt(match[3]!) } : undefined;
}

/** Whether a fold recorded in `record` has read the raw file (or the records it holds: see the module's comment). */
export function isFolded(record: OpenHourRecord, key: string): boolean {
  const file = rawFileSource(key);
  const upTo = file && record.folded[file.source];
  return upTo !== undefined && file!.lastOffset <= BigInt(upTo);
}
