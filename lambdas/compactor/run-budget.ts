/**
 * What one compaction run takes on, so that it ends within its time and memory however much
 * is waiting (docs/architecture.md, "Compaction", a run's share): a replay of old events, a
 * lake compacted for the first time, or a compactor that was down for a day is worked through
 * a share per run, each run's work committed hour by hour, none of it redone by the next.
 * Pure: compact-lake.ts reads the lake and applies it.
 */

/** An hour waiting to be compacted: what it is read from, and the late files' bytes it would fold in. */
export interface HourWork {
  readonly hour: string;
  /** Its committed compacted files' bytes, or its raw files'. */
  readonly inputBytes: number;
  /** The late files with rows for it that the run holds (a file with rows in several hours counts in each). */
  readonly lateBytes: number;
}

export interface RunShare {
  /** The hours this run compacts, in the order given. */
  readonly run: HourWork[];
  /** Hours bigger than one run compacts in its time: they stay as they are, answered exactly at the raw cost. */
  readonly tooBig: HourWork[];
  /** Hours left for the next runs: this run's share is full. */
  readonly later: HourWork[];
}

/**
 * The hours one run compacts, in the order given: an hour whose input is over `maxBytes` (what one
 * run compacts within its time) is too big; the others are taken while their bytes together stay
 * within `maxBytes`, the first always, and the rest wait (the order is kept: a small hour does not
 * overtake a big one that no longer fits).
 */
export function shareOfRun(hours: readonly HourWork[], maxBytes: number): RunShare {
  const share: RunShare = { run: [], tooBig: [], later: [] };
  let bytes = 0;
  for (const work of hours) {
    if (work.inputBytes > maxBytes) share.tooBig.push(work);
    else if (share.later.length > 0 || (share.run.length > 0 && bytes + work.inputBytes + work.lateBytes > maxBytes)) share.later.push(work);
    else {
      share.run.push(work);
      bytes += work.inputBytes + work.lateBytes;
    }
  }
  return share;
}

/** A late file as a run weighs it: its size, and the hours it has rows in that do not hold it yet. */
export interface LateCandidate {
  readonly size: number;
  /** Hours with rows of the file that no committed generation holds yet. */
  readonly pending: ReadonlySet<string>;
}

/**
 * The late files a run holds (as Parquet, read again hour by hour), offered oldest first as they are
 * read: those with rows for an hour it can compact, while their bytes stay within `maxBytes`, the
 * first always; from the first that does not fit, the run is full and reads no more. A file whose
 * pending hours cannot be compacted (too big, or stuck) is passed over, so files waiting on such an
 * hour do not use up every run's share; one with no pending hour is held (it only needs folding).
 */
export class LateShare {
  private bytes = 0;
  private files = 0;
  private full = false;

  constructor(
    private readonly compactable: (hour: string) => boolean,
    private readonly maxBytes: number,
  ) {}

  offer(file: LateCandidate): 'hold' | 'pass' | 'full' {
    const pending = [...file.pending];
    if (pending.length > 0 && !pending.some(this.compactable)) return 'pass';
    if (this.full || (this.files > 0 && this.bytes + file.size > this.maxBytes)) {
      this.full = true;
      return 'full';
    }
    this.files++;
    this.bytes += file.size;
    return 'hold';
  }
}
