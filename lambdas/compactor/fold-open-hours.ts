/**
 * Folding the open hours (docs/architecture.md, "Folding the open hour"): each fold
 * reads the raw files written into an hour since the last fold, keeps one row per
 * event_id across the hour (the copy every reader keeps: merge-rows.ts, arrivedBefore),
 * and writes the new events as one part, sorted by session, beside the compactor's files
 * (`compacted/<hour>/f…`, where the compactor's are `g…`), so a reader reads the hour's parts as
 * it reads a compacted hour: through the compacted table, by their paths, without the window.
 * When the hour's newest parts are as small as the new one, the new events and they are written
 * as one part instead (mergeTail): fewer, larger parts, which a refresh reads fewer bytes of.
 *
 * One writer per hour at a time: the hour's record (open-hour-record.ts) is replaced by a
 * conditional PUT, so of two folds one commits; what the other wrote is left to the sweep.
 * A copy that arrives before the copy a part holds (two source partitions' files, the
 * earlier one written later) replaces it: the part is written again without it. So the
 * parts always hold what compacting the raw files folded so far would keep. Parts written
 * again or merged stay named in the record for a retention, for the readers that took them.
 *
 * Once the compactor has committed the hour (it compacts the raw files, as before, and
 * ignores the parts), the hour's parts and record are deleted `retentionMs` later. Parts no
 * record names (written again, or by a fold that lost) are swept by the compactor as it sweeps
 * its own unnamed files, `retentionMs` after they were written (compact-lake.ts).
 */
import { randomBytes } from 'node:crypto';
import { HOUR_MS, isSettled, type LakeTiming } from '../common/lake-timing.ts';
import { mapWithLimit } from '../common/map-with-limit.ts';
import { hourOfOpenHourKey, isFolded, namedParts, OPEN_HOURS_PREFIX, openHourKey, parseOpenHourRecord, rawFileSource, serializeOpenHourRecord, type FoldedPart, type OpenHourRecord } from '../common/open-hour-record.ts';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import { MANIFEST_KEY, parseManifest, hourStartOf } from '../common/compaction-manifest.ts';
import { hourPartition } from '../consumer/lake-keys.ts';
import { PreconditionFailedError, type ListedObject, type ObjectStore } from '../consumer/object-store.ts';
import { lakeRowColumns } from '../common/generated/lake-row-columns.js';
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { lakeFileWriter } from '../consumer/parquet-encoder.ts';
import type { LakeRow } from '../consumer/plan-batch.ts';
import { arrivedBefore, bySessionThenTime, mergeRows, rowGroupsBySessionEnd, type CopyLineage } from './merge-rows.ts';
import { PartIds } from './part-ids.ts';
import { readLakeColumn, readLakeColumnGroups, readLakeRows } from './parquet-reader.ts';

export interface FoldOptions {
  readonly store: ObjectStore;
  readonly timing: LakeTiming;
  /** How long an hour's parts stay after the compactor committed the hour: longer than any query runs. */
  readonly retentionMs: number;
  /** The most bytes of raw files (Parquet) one fold of an hour reads (the first file always); the rest wait for the next fold. @default 16 MiB */
  readonly maxFoldBytes?: number;
  /** The most rows a part merged from others holds (mergeTail); 0 merges none. @default MAX_MERGED_ROWS */
  readonly maxMergedRows?: number;
  readonly now?: () => number;
}

export interface FoldResult {
  readonly hoursFolded: number;
  readonly filesFolded: number;
  /** Events new to their hour's parts. */
  readonly eventsFolded: number;
  /** Copies of events dropped: within the files folded, or against the parts. */
  readonly duplicatesDropped: number;
  /** Parts written again because a raw file brought an earlier copy of one of their events. */
  readonly partsRewritten: number;
  /** Parts merged, with the fold's new rows, into one (mergeTail). */
  readonly partsMerged: number;
  /** Raw files waiting for the next fold: this fold's share was full. */
  readonly filesLeft: number;
  /** Raw files whose names are not a consumer's, so no offset says whether they were folded: never folded (the compactor still compacts them). */
  readonly filesUnknown: number;
  /** Hours whose parts and record were deleted (compacted long enough ago). */
  readonly hoursCleared: number;
  /** Another fold committed one of the hours first; this fold left it. */
  readonly lostRace: boolean;
}

const MiB = 2 ** 20;
/**
 * How many parts of one size a merged part holds: four parts of a minute become one of four minutes,
 * four of those one of 16, up to MAX_MERGED_ROWS. Each row is written again once per size it passes
 * through: at most three times in an hour of 60 folds, whatever the rate.
 */
export const MERGE_FAN_IN = 4;
/**
 * The most rows a merged part holds: four minutes at 5,000 events/s with a quarter to spare. A part of
 * four minutes reads about 1 byte an event less than four of a minute (sessions that span the minutes
 * keep their ids once), and opens one file instead of four (docs/benchmarks.md, "Merged parts"). A
 * merge of 1.16 million rows completes with the heap capped at 900 MiB (measured; not on Lambda).
 */
export const MAX_MERGED_ROWS = 1_500_000;
const INGEST_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'ingest_time');
const ID_COLUMN = LAKE_COLUMNS.findIndex((c) => c.name === 'event_id');
/** What arrivedBefore compares of a copy, and where each is among the lake's columns. */
const LINEAGE_COLUMNS = (['ingest_time', 'source_topic', 'source_partition', 'source_offset'] as const).map((name) => [name, LAKE_COLUMNS.findIndex((c) => c.name === name)] as const);
const IO_PARALLELISM = 16;
/**
 * How many parts' ids a fold reads at once. A cold fold at an hour's end reads the ids of every part
 * (about 18 of a million rows at 5,000 events/s), each first as strings: 16 at once peaked at 3,340 MiB,
 * over the function's 3,008 MB, and 2 at 975 MiB, in the same time (the decoding, about 2 s a part, is
 * the work; measured, not on Lambda).
 */
const ID_READS_AT_ONCE = 2;
const PARQUET = 'application/vnd.apache.parquet';
/** Parts lie beside the compactor's files of their hour. */
const FOLDED_PREFIX = LAKE_PREFIXES.compacted;

/**
 * The ids each part of an hour holds, kept between folds (a warm Lambda keeps its module), so a fold
 * reads only the parts it has not seen: an hour at 5,000 events/s has 18 million ids (part-ids.ts).
 */
const held = new Map<string, Map<string, PartIds>>();

/** A part's file, which its hour's record names. */
async function partBody(store: ObjectStore, hour: string, part: FoldedPart): Promise<Uint8Array> {
  const stored = await store.get(part.key);
  if (!stored) throw new Error(`the folded part ${part.key} that its hour's record names is missing: delete the record (${openHourKey(hour)}), and the hour is folded again`);
  return stored.body;
}

/** The ids of each of the record's parts, in its order: from memory, or read from the parts not seen yet. */
async function idsOfParts(store: ObjectStore, hour: string, parts: readonly FoldedPart[]): Promise<PartIds[]> {
  const known = held.get(hour) ?? new Map<string, PartIds>();
  held.set(hour, known);
  const named = new Set(parts.map((p) => p.key));
  for (const key of known.keys()) if (!named.has(key)) known.delete(key);
  await mapWithLimit(
    parts.filter((p) => !known.has(p.key)),
    ID_READS_AT_ONCE,
    async (part) => {
      known.set(part.key, PartIds.of((await readLakeColumn(await partBody(store, hour, part), 'event_id')) as string[]));
    },
  );
  return parts.map((p) => known.get(p.key)!);
}

/**
 * How many of the hour's newest parts a fold's new rows (one part's worth, of `rows` rows) are merged
 * with, and how many folds' parts the result then holds: the newest MERGE_FAN_IN - 1 parts when each
 * holds as many folds as the new part would, again for the next size up, while the rows stay within
 * `maxRows`. Parts of a size are merged only with parts of the same size, so a row is written again
 * once per size it passes through (log4 of the hour's folds at the most), and a part that was written
 * again for a copy keeps its size.
 */
export function mergeTail(parts: readonly FoldedPart[], rows: number, maxRows: number): { readonly take: number; readonly folds: number } {
  let [take, folds, total] = [0, 1, rows];
  for (;;) {
    const group = parts.slice(Math.max(0, parts.length - take - (MERGE_FAN_IN - 1)), parts.length - take);
    const groupRows = group.reduce((n, p) => n + p.rows, 0);
    if (group.length < MERGE_FAN_IN - 1 || group.some((p) => (p.folds ?? 1) !== folds) || total + groupRows > maxRows) return { take, folds };
    [take, folds, total] = [take + group.length, folds * MERGE_FAN_IN, total + groupRows];
  }
}

/** The hours a fold looks at: every hour whose raw partition can still change, and the next (events may be stamped ahead of the clock). */
function openHours(nowMs: number, timing: LakeTiming): string[] {
  const hours: string[] = [];
  const current = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  for (let start = current + HOUR_MS; start >= current - 2 * HOUR_MS && !isSettled(start, nowMs, timing); start -= HOUR_MS) hours.push(hourPartition(start));
  return hours.reverse();
}

/**
 * The raw files one fold takes: each source partition's files in offset order, so that no file
 * is left behind one taken (the record keeps one offset per partition), the partition whose next
 * file was written longest ago first, within `maxBytes` (the first file always).
 */
export function foldShare(files: readonly ListedObject[], maxBytes: number): { readonly take: ListedObject[]; readonly left: number } {
  const queues = new Map<string, { file: ListedObject; lastOffset: bigint }[]>();
  for (const file of files) {
    const source = rawFileSource(file.key)!;
    const queue = queues.get(source.source) ?? [];
    queue.push({ file, lastOffset: source.lastOffset });
    queues.set(source.source, queue);
  }
  for (const queue of queues.values()) queue.sort((a, b) => (a.lastOffset < b.lastOffset ? -1 : a.lastOffset > b.lastOffset ? 1 : 0));
  const take: ListedObject[] = [];
  let bytes = 0;
  for (;;) {
    let next: { file: ListedObject }[] | undefined;
    for (const queue of queues.values()) if (queue.length > 0 && (!next || queue[0]!.file.lastModifiedMs < next[0]!.file.lastModifiedMs)) next = queue;
    if (!next || (take.length > 0 && bytes + next[0]!.file.size > maxBytes)) break;
    const { file } = next.shift()!;
    take.push(file);
    bytes += file.size;
  }
  return { take, left: files.length - take.length };
}

export async function foldOpenHours(options: FoldOptions): Promise<FoldResult> {
  const { store, timing, retentionMs } = options;
  const now = (options.now ?? Date.now)();
  const maxFoldBytes = options.maxFoldBytes ?? 16 * MiB;
  const maxMergedRows = options.maxMergedRows ?? MAX_MERGED_ROWS;
  if (!(Number.isInteger(maxMergedRows) && maxMergedRows >= 0)) throw new Error(`maxMergedRows must be a whole number of rows, 0 or more, got ${maxMergedRows}`);
  const runId = randomBytes(4).toString('hex');
  const result = { hoursFolded: 0, filesFolded: 0, eventsFolded: 0, duplicatesDropped: 0, partsRewritten: 0, partsMerged: 0, filesLeft: 0, filesUnknown: 0, hoursCleared: 0, lostRace: false };

  const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
  const recorded = (await store.list(OPEN_HOURS_PREFIX)).map((o) => hourOfOpenHourKey(o.key)).filter((h): h is string => h !== undefined);

  // Hours the compactor committed: their parts go once no query can still be reading them.
  for (const hour of recorded.filter((h) => h in manifest.hours)) {
    if (now < manifest.hours[hour]!.committedAtMs + retentionMs) continue;
    const key = openHourKey(hour);
    let parts: string[] = [];
    try {
      parts = namedParts(parseOpenHourRecord(key, (await store.get(key))?.body));
    } catch {
      // A damaged record: its parts are left to the compactor's sweep.
    }
    await store.delete([...parts, key]);
    result.hoursCleared++;
  }

  // An hour that settled with raw files not folded yet (its record remains until it is compacted) is folded to its end.
  const hours = [...new Set([...recorded, ...openHours(now, timing)])].filter((h) => !(h in manifest.hours)).sort((a, b) => hourStartOf(a) - hourStartOf(b));
  // The ids of hours no longer folded go: a warm function would otherwise hold every hour it ever folded.
  for (const hour of held.keys()) if (!hours.includes(hour)) held.delete(hour);
  // An hour that fails (a damaged record, say) does not hold up the others; the first failure is thrown after them.
  const failures: unknown[] = [];
  for (const hour of hours) {
    const folded = await foldHour(hour).catch((error: unknown) => void failures.push(error));
    if (folded === 'lost') {
      result.lostRace = true;
      break;
    }
  }
  if (failures.length > 0) throw failures[0];
  return result;

  async function foldHour(hour: string): Promise<'folded' | 'nothing' | 'lost'> {
    const recordKey = openHourKey(hour);
    const stored = await store.get(recordKey);
    const record = parseOpenHourRecord(recordKey, stored?.body);
    if (record.complete) {
      held.delete(hour);
      return 'nothing';
    }
    /** Replaces the record if no other fold did since it was read. */
    const commit = (next: OpenHourRecord) => store.put(recordKey, Buffer.from(serializeOpenHourRecord(next)), 'application/json', stored ? { ifMatch: stored.etag } : { ifNoneMatch: '*' });
    try {
      return await foldRecorded(hour, record, commit);
    } catch (error) {
      // What this fold wrote is left to the compactor's sweep (it deletes parts no record names): a
      // commit that landed but answered with an error (a retried PUT meeting its own write) still names them.
      if (error instanceof PreconditionFailedError) return 'lost';
      // An hour that fails (a raw file that is not Parquet, a part gone) is marked so, and readers read it raw until a fold succeeds.
      const failing = (error instanceof Error ? error.message : String(error)).slice(0, 300);
      if (stored && record.failing !== failing) await commit({ ...record, failing }).catch(() => undefined);
      throw error;
    }
  }

  async function foldRecorded(hour: string, record: OpenHourRecord, commit: (next: OpenHourRecord) => Promise<string>): Promise<'folded' | 'nothing'> {
    const raw = await store.list(`${LAKE_PREFIXES.events}${hour}/`);
    const known = raw.filter((o) => rawFileSource(o.key) !== undefined);
    const unknownFiles = raw.length - known.length;
    result.filesUnknown += unknownFiles;
    const { take, left } = foldShare(
      known.filter((o) => !isFolded(record, o.key)),
      maxFoldBytes,
    );
    result.filesLeft += left;
    /** What readers must know beside the parts: raw files no fold can read (a fold that gets this far is not failing). */
    const state = { ...(unknownFiles > 0 && { unknownFiles }) };
    if (take.length === 0) {
      // Nothing to fold: a settled hour is complete (no raw file can appear in it), and its ids go from memory.
      const complete = isSettled(hourStartOf(hour), now, timing);
      const { failing: _failing, unknownFiles: _unknown, ...rest } = record;
      const next: OpenHourRecord = { ...rest, ...state, ...(complete && { complete }) };
      if ((record.parts.length > 0 || unknownFiles > 0) && serializeOpenHourRecord(next) !== serializeOpenHourRecord(record)) await commit(next);
      if (complete) held.delete(hour);
      return 'nothing';
    }

    const taken = await newRowsOf(hour, record, take);
    if (!taken) return 'nothing';
    // A part's rows are in session order (its ids compress to about half so), in row groups an engine
    // prunes by their event times (rowGroupsBySessionEnd). The new rows are merged with the newest parts when those are as small (mergeTail).
    const live = taken.parts.filter((part) => part.rows > 0);
    if (taken.newRows > 0) {
      const { take: merging, folds } = mergeTail(live, taken.newRows, maxMergedRows);
      const merged = live.splice(live.length - merging, merging);
      const runs = [...(await mapWithLimit(merged, IO_PARALLELISM, (part) => rowGroupsOf(hour, part))).flat(), taken.fresh];
      live.push(await writePart(hour, runs, merging > 0 ? 'm' : 'n', folds));
      result.partsMerged += merging;
    }

    const watermarks: Record<string, string> = { ...record.folded };
    for (const { source, lastOffset } of taken.sources) if (watermarks[source] === undefined || lastOffset > BigInt(watermarks[source])) watermarks[source] = String(lastOffset);
    // Parts written again or merged stay named (in `replaced`) for a retention, so the sweep leaves them to the readers that took them.
    const replaced = Object.fromEntries(Object.entries(record.replaced ?? {}).filter(([, until]) => until > now));
    const named = new Set(live.map((part) => part.key));
    for (const part of record.parts) if (!named.has(part.key)) replaced[part.key] = now + retentionMs;
    await commit({
      version: 1,
      parts: live,
      folded: watermarks,
      foldedAtMs: now,
      ...(Object.keys(replaced).length > 0 && { replaced }),
      ...state,
    });
    result.hoursFolded++;
    result.filesFolded += taken.sources.length;
    result.eventsFolded += taken.newRows - taken.replacements;
    result.duplicatesDropped += taken.duplicates;
    return 'folded';
  }

  /**
   * The raw files' events new to the hour's parts (one copy each, the first to arrive), as column arrays in session
   * order; and the parts, those holding a later copy of one of them written again without it. A function of its own so
   * that the raw rows, as objects of about 2 KB each, are gone before a merge reads parts.
   * Undefined when every file taken was gone.
   */
  async function newRowsOf(hour: string, record: OpenHourRecord, take: readonly ListedObject[]) {
    const read = await mapWithLimit(take, IO_PARALLELISM, async (file) => {
      const object = await store.get(file.key);
      return object && readLakeRows(object.body);
    });
    // Listed, then gone (a consumer deletes the files of a delivery it superseded, writing them again
    // cut otherwise): that file and the later ones of its partition are left for the next fold, so the
    // partition's offset never passes a file no fold has read.
    const sources = take.map((file) => rawFileSource(file.key)!);
    const cut = new Map<string, bigint>();
    sources.forEach(({ source, lastOffset }, i) => {
      const from = cut.get(source);
      if (!read[i] && (from === undefined || lastOffset < from)) cut.set(source, lastOffset);
    });
    const kept = sources.flatMap(({ source, lastOffset }, i) => {
      const from = cut.get(source);
      return from !== undefined && lastOffset >= from ? [] : [{ source, lastOffset, rows: read[i]! }];
    });
    result.filesLeft += take.length - kept.length;
    if (kept.length === 0) return undefined;
    const merged = mergeRows(kept.map((k) => k.rows));
    let duplicates = merged.duplicatesDropped;

    // Against the parts: a copy ingested after everything a part holds is never the one kept;
    // otherwise the part's copy is read and the two compared.
    const holders = PartIds.holders(
      merged.rows.map((r) => r.event_id),
      await idsOfParts(store, hour, record.parts),
    );
    const fresh: LakeRow[] = [];
    const contested = new Map<number, LakeRow[]>();
    merged.rows.forEach((row, i) => {
      const p = holders[i]!;
      if (p === -1) fresh.push(row);
      else if (row.ingest_time > record.parts[p]!.maxIngestMs) duplicates++;
      else if (contested.has(p)) contested.get(p)!.push(row);
      else contested.set(p, [row]);
    });
    const parts = [...record.parts];
    let replacements = 0;
    for (const [p, rows] of contested) {
      const part = parts[p]!;
      // The part as column arrays, not objects: a merged part holds up to MAX_MERGED_ROWS.
      const groups = await rowGroupsOf(hour, part);
      const asked = new Set(rows.map((r) => r.event_id));
      const copies = new Map<string, CopyLineage>();
      for (const group of groups) {
        group[ID_COLUMN]!.forEach((id, i) => asked.has(id as string) && copies.set(id as string, Object.fromEntries(LINEAGE_COLUMNS.map(([name, j]) => [name, group[j]![i]])) as unknown as CopyLineage));
      }
      const replaced = new Set<string>();
      for (const row of rows) {
        const copy = copies.get(row.event_id);
        if (!copy) throw new Error(`the folded part ${part.key} does not hold ${row.event_id}, which its ids said it did: delete the record (${openHourKey(hour)}), and the hour is folded again`);
        if (arrivedBefore(row, copy)) {
          replaced.add(row.event_id);
          fresh.push(row);
        }
        duplicates++; // the copy dropped: the new one, or the part's it replaces
      }
      if (replaced.size === 0) continue;
      // The part's rows but the copies replaced (not `kept`, the raw files read, whose offsets the record takes).
      const remaining = groups.map((group) => {
        const keep = group[ID_COLUMN]!.flatMap((id, i) => (replaced.has(id as string) ? [] : [i]));
        return group.map((values) => keep.map((i) => values[i]));
      });
      parts[p] = await writePart(hour, remaining, `r${p}`, part.folds);
      replacements += replaced.size;
      result.partsRewritten++;
    }
    return {
      sources: kept.map(({ source, lastOffset }) => ({ source, lastOffset })),
      fresh: lakeRowColumns(fresh.sort(bySessionThenTime)),
      newRows: fresh.length,
      duplicates,
      replacements,
      parts,
    };
  }

  /** A part's row groups as column arrays in LAKE_COLUMNS' order, each in session order. */
  async function rowGroupsOf(hour: string, part: FoldedPart): Promise<unknown[][][]> {
    const groups: unknown[][][] = [];
    for await (const group of readLakeColumnGroups(await partBody(store, hour, part))) groups.push(group);
    return groups;
  }

  /** Writes the rows of the runs (column arrays in LAKE_COLUMNS' order, each in session order) as a part of the hour, under a name of this fold's own. */
  async function writePart(hour: string, runs: readonly (readonly (readonly unknown[])[])[], tag: string, folds = 1): Promise<FoldedPart> {
    const key = `${FOLDED_PREFIX}${hour}/f${now}-${runId}-${tag}.parquet`;
    const rows = runs.reduce((n, run) => n + run[0]!.length, 0);
    const size = folds > 1 ? { folds } : {};
    if (rows === 0) return { key, rows: 0, bytes: 0, maxIngestMs: 0, ...size };
    const writer = await lakeFileWriter({ readOften: true });
    for (const group of rowGroupsBySessionEnd(runs)) writer.writeRowGroup(group);
    const body = Buffer.from(writer.finish());
    await store.put(key, body, PARQUET);
    // Known to the next fold in this process; a record that never names it (a lost race) drops it there.
    held.get(hour)?.set(key, PartIds.of(runs.flatMap((run) => run[ID_COLUMN] as string[])));
    return { key, rows, bytes: body.byteLength, maxIngestMs: runs.reduce((m, run) => (run[INGEST_COLUMN] as number[]).reduce((n, t) => Math.max(n, t), m), 0), ...size };
  }
}
