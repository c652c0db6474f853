/**
 * One compaction run over the lake (the protocol: docs/architecture.md, "Compaction").
 *
 * 1. Deletes what the manifest says is due: superseded generations, folded late
 *    files, the raw files of hours compacted more than `retentionMs` ago (longer
 *    than any query), and compacted files no manifest ever named (a compactor
 *    that died or lost a race) once they are as old.
 * 2. Compacts each settled raw hour (lake-timing.ts: no raw file can appear in
 *    it any more) and folds settled late files into the hours their rows belong
 *    to: the hour's rows (its compacted files if it has them, its raw files
 *    otherwise) plus the late rows, one per event_id, in event-time row groups, as a
 *    new generation of files under compacted/ with names of this run's own,
 *    in memory bounded by `sliceRows` however big the hour (compact-hour.ts).
 *    Beside each generation it writes the hour's rollups (lambdas/query/rollups.ts),
 *    one file each, named in the same manifest entry; an hour compacted before
 *    rollups existed is written again to get them. A run takes a share of what
 *    waits (run-budget.ts): hours within what it compacts in its time, late files
 *    within the bytes it holds; the rest waits for the next run. An hour that
 *    fails (a session bigger than a slice) is recorded in the manifest: tried
 *    again with one late file if it failed with more, else skipped until its
 *    files or the slice budget change.
 * 3. Commits each hour with a conditional PUT of the manifest, naming the late
 *    files the hour now holds, and folding each late file that every hour it has
 *    rows in now holds. A reader sees an hour's old files or its new ones, never both;
 *    a late file's rows are read from it (de-duplicated against everything) until
 *    it is marked folded. If another compactor committed first, this run stops and
 *    leaves its files to the sweep of step 1 (a 412 can also answer the retry of a
 *    commit that landed): the next run starts from the new manifest.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapWithLimit } from '../common/map-with-limit.ts';
import { isLateFileSettled, isSettled, type LakeTiming } from '../common/lake-timing.ts';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import { hourOfKey, hourPartition, lateKeyIngestTime } from '../consumer/lake-keys.ts';
import { PreconditionFailedError, type ObjectStore } from '../consumer/object-store.ts';
import { MANIFEST_KEY, parseManifest, serializeManifest, type CompactedHour, type Manifest } from '../common/compaction-manifest.ts';
import { namedParts, readOpenHourRecords } from '../common/open-hour-record.ts';
import { compactHour, SliceTooBigError } from './compact-hour.ts';
import { hoursOfFile, hoursOfName, rowsOfHour } from './late-rows.ts';
import { LateShare, shareOfRun } from './run-budget.ts';
import type { WorkerThreads } from './slice-workers.ts';

export interface CompactorOptions {
  readonly store: ObjectStore;
  readonly timing: LakeTiming;
  /** How long replaced files stay readable after the commit that replaced them: longer than any query runs. */
  readonly retentionMs: number;
  /** Target size of a compacted file, estimated from the input's bytes per row. @default 128 MiB */
  readonly targetFileBytes?: number;
  /** The largest hour (Parquet bytes read) one run compacts within its time; a larger hour stays raw and is logged. */
  readonly maxHourBytes: number;
  /** The most rows the slices of an hour being merged hold in memory at once, shared among the worker threads (compact-hour.ts): what bounds the run's memory. @default 1,000,000 */
  readonly sliceRows?: number;
  /** Where the run spills an hour's rows while it works through it in slices (Lambda: /tmp). @default os.tmpdir() */
  readonly spillDir?: string;
  /** Worker threads that spread the inputs and merge the slices (slice-workers.ts), one per vCPU. @default none: all in this thread */
  readonly workers?: WorkerThreads;
  /** The most bytes of late files (Parquet) a run holds to fold in; the rest wait for the next run. @default 64 MiB */
  readonly lateBytesHeld?: number;
  /** Rows per row group in compacted files. @default ROW_GROUP_ROWS */
  readonly rowGroupRows?: number;
  /** The most `product_minutes` groups an hour's run holds; an hour with more is written without them. @default MAX_PRODUCT_MINUTE_GROUPS */
  readonly maxProductMinuteGroups?: number;
  readonly now?: () => number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

export interface CompactionResult {
  readonly hoursCompacted: number;
  readonly lateFilesFolded: number;
  readonly filesWritten: number;
  readonly rowsWritten: number;
  readonly duplicatesDropped: number;
  readonly filesDeleted: number;
  /** The most slices one hour was merged in (1 while every hour fits sliceRows). */
  readonly slices: number;
  /** The most rows one slice held in memory: never above sliceRows. */
  readonly peakSliceRows: number;
  /** The most bytes spilled to local disk at once. */
  readonly peakSpillBytes: number;
  /** The most threads an hour was compacted with (1 without worker threads). */
  readonly threads: number;
  /** Hours left as they were this run, with the reason. */
  readonly hoursSkipped: readonly { readonly hour: string; readonly reason: string }[];
  /** Hours left for the next runs: this run's share of time was full. */
  readonly hoursLeft: number;
  /** Settled late files left for the next runs: this run's share of memory was full. */
  readonly lateFilesLeft: number;
  /** Settled late files passed over: every hour they have rows in that does not hold them yet is too big or stuck (in hoursSkipped). */
  readonly lateFilesPassed: number;
  /** Another compactor committed first; this run stopped. */
  readonly lostRace: boolean;
}

const MiB = 2 ** 20;
/**
 * Rows per row group of a compacted file: the unit an engine skips outside a range by its event
 * times, in which rows are sorted by session. At 5,000 events/s, 262,144 rows are 52 s of events;
 * the columns a refresh reads took 14.1 bytes an event against 15.6 in groups of 131,072 rows (26 s),
 * whose sessions are cut into more pieces, and 13.1 in groups of 524,288, which cost 4-9% more CPU
 * and 180 MiB more memory (docs/benchmarks.md, "Files as dense as the priced rate"). Half a group
 * (about 26 s of events) is read beyond a range's start on average.
 */
export const ROW_GROUP_ROWS = 262_144;
/** Parallel reads of one run… */
const IO_PARALLELISM = 16;
/** …holding at most this many bytes of files at once, as the stack's memory counts: the late files held, and input files in flight (a compacted file is up to 128 MiB; one at least). */
const FILE_BYTES_IN_MEMORY = 256 * MiB;
/** The late files a run holds to fold in, at most (or one file). */
const LATE_BYTES_HELD = 64 * MiB;
/** Spill directories are named after the process that made them, so a run can tell a dead run's (in Lambda, a timed-out one's) from a live neighbour's. */
const SPILL_DIR_PREFIX = 'clickstream-compactor-';

/** The spill directories of runs in this process that have not finished (two may run at once). */
const liveSpillDirs = new Set<string>();

/**
 * Removes the spill directories of runs that are no longer running: their process is gone, or is
 * this one and the run is not (in Lambda, a run that timed out leaves its files in /tmp for the next).
 */
function removeStaleSpillDirs(parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = Number(new RegExp(`^${SPILL_DIR_PREFIX}(\\d+)-`).exec(name)?.[1]);
    const path = join(parent, name);
    if (!pid || liveSpillDirs.has(path) || (pid !== process.pid && isAlive(pid))) continue;
    rmSync(path, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The hour partition (`year=…/hour=HH`) a lake key lies in. */
function hourPathOfKey(key: string): string | undefined {
  const start = hourOfKey(key);
  return start === undefined ? undefined : hourPartition(start);
}

/** A late file a run holds to fold in: its bytes, every hour it has rows in, and those whose committed generation does not hold it yet. */
interface HeldLateFile {
  readonly key: string;
  readonly size: number;
  readonly body: Uint8Array;
  readonly hours: ReadonlySet<string>;
  readonly pending: Set<string>;
}

/**
 * The manifest with the late files given folded where every hour they have rows in holds them
 * (its entry's lateKeys): marked folded, to be deleted at `deleteAtMs`. Entries keep naming only late
 * files in `unfolded` (the run's listing of those not folded), so a folded file, or one replaced by a
 * retried batch, leaves them (a file wrongly left out would only be folded again: its rows' copies are
 * dropped by event_id). Readers read a late file until it is folded, so only then may it go.
 */
function foldLate(manifest: Manifest, files: readonly HeldLateFile[], unfolded: ReadonlySet<string>, deleteAtMs: number): { manifest: Manifest; folded: string[] } {
  const folded = files.filter((f) => !(f.key in manifest.folded) && [...f.hours].every((hour) => manifest.hours[hour]?.lateKeys?.includes(f.key))).map((f) => f.key);
  const named = (key: string) => unfolded.has(key) && !folded.includes(key);
  const hours = Object.fromEntries(
    Object.entries(manifest.hours).map(([hour, entry]) => {
      if (!entry.lateKeys || entry.lateKeys.every(named)) return [hour, entry];
      const { lateKeys, ...rest } = entry;
      const kept = lateKeys.filter(named);
      return [hour, kept.length > 0 ? { ...rest, lateKeys: kept } : rest];
    }),
  );
  return { manifest: { ...manifest, hours, folded: { ...manifest.folded, ...Object.fromEntries(folded.map((key) => [key, deleteAtMs])) } }, folded };
}

/** The manifest without an hour's stuck record (it was compacted: its files or the budget changed). */
function withoutStuck(manifest: Manifest, hour: string): Manifest {
  if (!manifest.stuck?.[hour]) return manifest;
  const { [hour]: _compacted, ...stuck } = manifest.stuck;
  const { stuck: _before, ...rest } = manifest;
  return Object.keys(stuck).length > 0 ? { ...rest, stuck } : rest;
}

/**
 * The parts the open hours' records name (fold-open-hours.ts): they lie beside the compacted files,
 * and are not this run's to sweep; nor is any part of an hour whose record cannot be read.
 */
async function foldedParts(store: ObjectStore): Promise<{ readonly named: string[]; readonly unreadable: string[] }> {
  const records = await readOpenHourRecords(store);
  return {
    named: records.flatMap(({ record }) => (record ? namedParts(record) : [])),
    unreadable: records.filter(({ record }) => !record).map(({ hour }) => `${LAKE_PREFIXES.compacted}${hour}/f`),
  };
}

/** Every file an hour's entry names: its compacted files and its rollups. */
function filesOf(entry: CompactedHour): string[] {
  return [...entry.files.map((f) => f.key), ...Object.values(entry.rollups ?? {})];
}

export async function compactLake(options: CompactorOptions): Promise<CompactionResult> {
  const { store, timing, retentionMs } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const runId = randomBytes(4).toString('hex');
  const stats = { hoursCompacted: 0, lateFilesFolded: 0, lateFilesPassed: 0, filesWritten: 0, rowsWritten: 0, duplicatesDropped: 0, filesDeleted: 0, slices: 0, peakSliceRows: 0, peakSpillBytes: 0, threads: 0 };
  const hoursSkipped: { hour: string; reason: string }[] = [];
  let hoursLeft = 0;
  let lateFilesLeft = 0;

  const stored = await store.get(MANIFEST_KEY);
  let manifest = parseManifest(stored?.body);
  let etag = stored?.etag;
  /** Replaces the manifest if nobody else did since it was read; false if somebody did. */
  const commit = async (next: Manifest): Promise<boolean> => {
    try {
      etag = await store.put(MANIFEST_KEY, Buffer.from(serializeManifest(next)), 'application/json', etag ? { ifMatch: etag } : { ifNoneMatch: '*' });
      manifest = next;
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailedError) return false;
      throw error;
    }
  };
  const result = (lostRace: boolean): CompactionResult => ({ ...stats, hoursSkipped, hoursLeft, lateFilesLeft, lostRace });

  // 1. Garbage that is due.
  const t = now();
  const due = (entries: Readonly<Record<string, number>>) => Object.entries(entries).filter(([, at]) => at <= t).map(([key]) => key);
  const dueKeys = [...due(manifest.garbage), ...due(manifest.folded)];
  const rawDue = Object.entries(manifest.hours).filter(([, h]) => h.rawDeleteAfterMs !== undefined && h.rawDeleteAfterMs <= t);
  const parts = await foldedParts(store);
  const referenced = new Set([...Object.values(manifest.hours).flatMap(filesOf), ...Object.keys(manifest.garbage), ...parts.named]);
  const written = [...(await store.list(LAKE_PREFIXES.compacted)), ...(await store.list(LAKE_PREFIXES.rollups))];
  const spared = (key: string) => referenced.has(key) || parts.unreadable.some((prefix) => key.startsWith(prefix));
  const orphans = written.filter((o) => !spared(o.key) && o.lastModifiedMs <= t - retentionMs).map((o) => o.key);
  const rawKeys = (await Promise.all(rawDue.map(async ([hour]) => (await store.list(`${LAKE_PREFIXES.events}${hour}/`)).map((o) => o.key)))).flat();
  const toDelete = [...dueKeys, ...orphans, ...rawKeys];
  if (toDelete.length > 0) await store.delete(toDelete);
  stats.filesDeleted = toDelete.length;
  if (dueKeys.length > 0 || rawDue.length > 0) {
    const dropped = new Set(dueKeys);
    const hours = { ...manifest.hours };
    for (const [hour, { rawDeleteAfterMs: _, ...entry }] of rawDue) hours[hour] = entry;
    const keep = (entries: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(entries).filter(([key]) => !dropped.has(key)));
    if (!(await commit({ ...manifest, hours, folded: keep(manifest.folded), garbage: keep(manifest.garbage) }))) return result(true);
  }

  // 2. What to compact: settled raw hours not compacted yet, and settled late files not folded yet.
  const rawByHour = new Map<string, { key: string; size: number }[]>();
  for (const o of await store.list(LAKE_PREFIXES.events)) {
    const hour = hourPathOfKey(o.key);
    if (!hour || hour in manifest.hours || !isSettled(hourOfKey(o.key)!, t, timing)) continue;
    rawByHour.set(hour, [...(rawByHour.get(hour) ?? []), { key: o.key, size: o.size }]);
  }
  const hourInputs = (hour: string) => {
    const entry = manifest.hours[hour];
    return entry ? entry.files.map((f) => ({ key: f.key, size: f.bytes })) : (rawByHour.get(hour) ?? []);
  };
  const inputBytesOf = (hour: string) => hourInputs(hour).reduce((n, i) => n + i.size, 0);
  const sliceRows = options.sliceRows ?? 1_000_000;
  /** What bounds a session's rows in an hour: each thread's share of the slice budget (compact-hour.ts). */
  const threadSliceRows = Math.floor(sliceRows / Math.max(1, options.workers?.count ?? 1));
  /** How an hour failed with these files and this budget, if it did. */
  const failedAs = (hour: string) => {
    const failed = manifest.stuck?.[hour];
    return failed && failed.inputBytes === inputBytesOf(hour) && failed.sliceRows >= threadSliceRows ? failed : undefined;
  };
  /** Skipped until its files change or the budget grows: it failed with one late file at most. */
  const stuckAs = (hour: string) => {
    const failed = failedAs(hour);
    return failed && failed.lateFiles <= 1 ? failed : undefined;
  };
  const compactable = (hour: string) => inputBytesOf(hour) <= options.maxHourBytes && !stuckAs(hour);
  const skipReason = (hour: string) =>
    stuckAs(hour)?.reason ??
    `${Math.round(inputBytesOf(hour) / MiB)} MiB of Parquet, over this compactor's ${Math.round(options.maxHourBytes / MiB)} MiB (what it compacts within its time): the hour stays as it is (queries stay exact, at the raw files' cost)`;
  const holds = (hour: string, key: string) => manifest.hours[hour]?.lateKeys?.includes(key) ?? false;

  // Late files, oldest first, held (as Parquet) while within the run's share (run-budget.ts), so a
  // replay of any size costs a run bounded memory. One whose hours (by its name, or else by its rows)
  // all hold it or cannot be compacted is passed over; those hours are reported every run.
  const lateListed = (await store.list(LAKE_PREFIXES.late))
    .map((o) => ({ ...o, ingest: lateKeyIngestTime(o.key) }))
    .filter((o) => o.ingest !== undefined && !(o.key in manifest.folded) && isLateFileSettled(o.ingest, t, timing))
    .sort((a, b) => a.ingest! - b.ingest! || (a.key < b.key ? -1 : 1));
  const listedLate = new Set(lateListed.map((o) => o.key));
  const blocking = new Set<string>();
  const passOver = (pending: Iterable<string>) => {
    stats.lateFilesPassed++;
    for (const hour of pending) if (!compactable(hour)) blocking.add(hour);
  };
  const toRead = lateListed.filter((o) => {
    const named = hoursOfName(o.key);
    const pending = named && [...named].filter((hour) => !holds(hour, o.key));
    if (!pending || pending.length === 0 || pending.some(compactable)) return true;
    passOver(pending);
    return false;
  });
  const share = new LateShare(compactable, options.lateBytesHeld ?? LATE_BYTES_HELD);
  const held: HeldLateFile[] = [];
  reading: for (let i = 0; i < toRead.length; i += IO_PARALLELISM) {
    const read = await mapWithLimit(toRead.slice(i, i + IO_PARALLELISM), IO_PARALLELISM, async (o) => {
      const object = await store.get(o.key);
      // Vanished: replaced by a retried batch, whose replacement is another late file.
      return object && { key: o.key, size: o.size, body: object.body, hours: await hoursOfFile(object.body) };
    });
    for (const [j, file] of read.entries()) {
      if (!file) continue;
      const pending = new Set([...file.hours].filter((hour) => !holds(hour, file.key)));
      const offered = share.offer({ size: file.size, pending });
      if (offered === 'hold') held.push({ ...file, pending });
      if (offered === 'pass') passOver(pending);
      if (offered === 'full') {
        lateFilesLeft = toRead.length - i - j;
        break reading;
      }
    }
  }
  const heldBytes = held.reduce((n, f) => n + f.size, 0);
  const lateBytesOf = (hour: string) => held.reduce((n, f) => n + (f.pending.has(hour) ? f.size : 0), 0);

  // Hours compacted before rollups existed (settled, as every compacted hour is): written again with them.
  const withoutRollups = Object.entries(manifest.hours).filter(([, h]) => !h.rollups).map(([hour]) => hour);

  // 3. Each hour: read, merge, write a new generation and its rollups, commit. Raw hours first (the
  // live dashboard's), then the hours late files change; within the run's share of time.
  const lateHours = held.flatMap((f) => [...f.pending]);
  const waiting = [...new Set([...[...rawByHour.keys()].sort(), ...[...lateHours, ...withoutRollups].sort()])];
  const { run, tooBig, later } = shareOfRun(
    waiting.filter((hour) => !stuckAs(hour)).map((hour) => ({ hour, inputBytes: inputBytesOf(hour), lateBytes: lateBytesOf(hour) })),
    options.maxHourBytes,
  );
  for (const hour of [...new Set([...waiting.filter(stuckAs), ...tooBig.map((w) => w.hour), ...blocking])].sort()) hoursSkipped.push({ hour, reason: skipReason(hour) });
  hoursLeft = later.length;
  const hours = run.map((w) => w.hour);
  const spillParent = options.spillDir ?? tmpdir();
  if (hours.length > 0) removeStaleSpillDirs(spillParent);
  const spillDir = hours.length > 0 ? mkdtempSync(join(spillParent, `${SPILL_DIR_PREFIX}${process.pid}-`)) : undefined;
  if (spillDir) liveSpillDirs.add(spillDir);
  try {
    for (const hour of hours) {
      const entry = manifest.hours[hour];
      const inputs = hourInputs(hour);
      // An hour that failed with several late files (copies count until merged) is tried with the oldest alone.
      const late = held.filter((f) => f.pending.has(hour)).slice(0, failedAs(hour) ? 1 : undefined);
      const largest = Math.max(1, ...inputs.map((i) => i.size));
      const parallelism = Math.max(1, Math.min(IO_PARALLELISM, Math.floor((FILE_BYTES_IN_MEMORY - heldBytes) / largest)));
      const generation = (entry?.generation ?? 0) + 1;
      let written;
      try {
        written = await compactHour(
          {
            hour,
            generation,
            runId,
            store,
            sliceRows,
            spillDir: spillDir!,
            targetFileBytes: options.targetFileBytes ?? 128 * MiB,
            rowGroupRows: options.rowGroupRows ?? ROW_GROUP_ROWS,
            ...(options.workers && { workers: options.workers }),
            ...(options.maxProductMinuteGroups !== undefined && { maxProductMinuteGroups: options.maxProductMinuteGroups }),
          },
          async (input) => {
            let vanished = false;
            await mapWithLimit(inputs, parallelism, async (i) => {
              const object = await store.get(i.key);
              if (!object) return void (vanished = true);
              await input.file(object.body);
            });
            for (const file of late) for await (const columns of rowsOfHour(file.body, hour)) await input.columns(columns);
            return !vanished;
          },
        );
      } catch (error) {
        if (!(error instanceof SliceTooBigError)) throw error;
        // Recorded, so later runs do not spend their time on it again, nor hold up the hours behind it.
        const reason = `${error.message}; the hour stays as it is (queries stay exact, at the raw files' cost)`;
        if (!(await commit({ ...manifest, stuck: { ...manifest.stuck, [hour]: { inputBytes: inputBytesOf(hour), sliceRows: threadSliceRows, lateFiles: late.length, reason } } }))) return result(true);
        hoursSkipped.push({ hour, reason });
        continue;
      }
      if (!written) {
        // A raw file was deleted under us: a retried batch moved its rows to a late file.
        hoursSkipped.push({ hour, reason: 'a file changed while it was read; tried again at the next run' });
        continue;
      }
      const { files, rollups } = written;
      files.sort((a, b) => (a.key < b.key ? -1 : 1));
      const commitAt = now();
      const garbage = { ...manifest.garbage };
      for (const key of entry ? filesOf(entry) : []) garbage[key] = commitAt + retentionMs;
      // The late files this generation now holds are named in its entry; each that every hour it has
      // rows in now holds is folded in the same commit, so a run that stops later loses none of it.
      const lateKeys = [...(entry?.lateKeys ?? []), ...late.map((f) => f.key)];
      const hourEntry: CompactedHour = {
        generation,
        files,
        rows: written.rows,
        committedAtMs: commitAt,
        rollups,
        // The raw files are read by queries that started before this first commit; the hour's later generations replace compacted files only.
        ...(entry ? entry.rawDeleteAfterMs !== undefined && { rawDeleteAfterMs: entry.rawDeleteAfterMs } : { rawDeleteAfterMs: commitAt + retentionMs }),
        ...(lateKeys.length > 0 && { lateKeys }),
      };
      const next = foldLate({ ...withoutStuck(manifest, hour), hours: { ...manifest.hours, [hour]: hourEntry }, garbage }, held, listedLate, commitAt + retentionMs);
      if (!(await commit(next.manifest))) {
        // Its files are left to the sweep (step 1), which deletes them a retention after they were written if no
        // manifest names them: a 412 can also answer the retry of a PUT that landed, whose manifest names them.
        log({ level: 'INFO', message: 'another compactor committed first; this run stops', hour });
        return result(true);
      }
      for (const file of late) file.pending.delete(hour);
      stats.lateFilesFolded += next.folded.length;
      stats.hoursCompacted++;
      stats.filesWritten += files.length;
      stats.rowsWritten += written.rows;
      stats.duplicatesDropped += written.duplicatesDropped;
      stats.slices = Math.max(stats.slices, written.slices);
      stats.peakSliceRows = Math.max(stats.peakSliceRows, written.peakSliceRows);
      stats.peakSpillBytes = Math.max(stats.peakSpillBytes, written.peakSpillBytes);
      stats.threads = Math.max(stats.threads, written.threads);
      log({ level: 'INFO', message: 'hour compacted', hour, generation, files: files.length, rows: written.rows, duplicatesDropped: written.duplicatesDropped, inputFiles: inputs.length, slices: written.slices, threads: written.threads, seconds: written.seconds });
    }
  } finally {
    if (spillDir) {
      rmSync(spillDir, { recursive: true, force: true });
      liveSpillDirs.delete(spillDir);
    }
  }

  // 4. A held late file with no rows (every other is folded in the commit of its last hour): folded.
  const rest = foldLate(manifest, held, listedLate, now() + retentionMs);
  if (rest.folded.length > 0) {
    if (!(await commit(rest.manifest))) return result(true);
    stats.lateFilesFolded += rest.folded.length;
  }
  return result(false);
}
