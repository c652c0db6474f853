/**
 * Rows on local disk (Lambda's /tmp) while the compactor works through an hour
 * in slices: frames of up to FRAME_ROWS rows, each a length and the rows as a
 * JSON array of column arrays (the lake columns' order) deflated at level 1.
 * JSON keeps every value exact (doubles round-trip, instants are ms numbers);
 * deflate makes a row about a tenth of its JSON (measured: docs/benchmarks.md).
 * Synchronous on purpose: a run does one thing at a time, and a slice's rows are
 * read back in order by a loop, not a stream.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import type { LakeRow } from '../consumer/plan-batch.ts';

const FRAME_ROWS = 1024;
const NAMES = LAKE_COLUMNS.map((c) => c.name);

/** A frame's rows as objects, with a row's null fields left out (as the Parquet reader gives them). */
function toRows(columns: readonly (readonly unknown[])[]): LakeRow[] {
  const count = columns[0]?.length ?? 0;
  const rows = new Array<LakeRow>(count);
  for (let i = 0; i < count; i++) {
    const row: Record<string, unknown> = {};
    for (let j = 0; j < NAMES.length; j++) {
      const value = columns[j]![i];
      if (value !== null) row[NAMES[j]!] = value;
    }
    rows[i] = row as unknown as LakeRow;
  }
  return rows;
}

/** A spill file being written: rows appended, frames flushed as they fill. */
export class SpillWriter {
  private readonly fd: number;
  /** The frame being filled, a column at a time: columns compress better than rows, and cost no array per row. */
  private frame: unknown[][];
  private frameRows = 0;
  /** Rows appended so far. */
  rows = 0;
  bytes = 0;

  /** `columns`: the lake columns it holds (indices into LAKE_COLUMNS, in that order); all by default. */
  constructor(
    readonly path: string,
    private readonly columns: readonly number[] = NAMES.map((_, j) => j),
  ) {
    this.fd = openSync(path, 'w');
    this.frame = columns.map(() => []);
  }

  push(row: LakeRow): void {
    const fields = row as unknown as Record<string, unknown>;
    for (let j = 0; j < this.columns.length; j++) this.frame[j]!.push(fields[NAMES[this.columns[j]!]!] ?? null);
    this.added();
  }

  /** Row `i` of column arrays in LAKE_COLUMNS' order (readLakeColumnGroups, readSpillColumns). */
  pushFrom(columns: readonly (readonly unknown[])[], i: number): void {
    for (let j = 0; j < this.columns.length; j++) this.frame[j]!.push(columns[this.columns[j]!]![i] ?? null);
    this.added();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private added(): void {
    this.rows++;
    if (++this.frameRows >= FRAME_ROWS) this.flush();
  }

  private flush(): void {
    if (this.frameRows === 0) return;
    const body = deflateRawSync(JSON.stringify(this.frame), { level: 1 });
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.byteLength);
    writeSync(this.fd, length);
    writeSync(this.fd, body);
    this.bytes += 4 + body.byteLength;
    this.frame = this.columns.map(() => []);
    this.frameRows = 0;
  }
}

/** A closed spill file's frames as column arrays in LAKE_COLUMNS' order (of the columns it holds), in the order they were written. */
export function* readSpillColumns(path: string): Generator<unknown[][]> {
  const fd = openSync(path, 'r');
  try {
    const length = Buffer.alloc(4);
    let position = 0;
    while (readSync(fd, length, 0, 4, position) === 4) {
      const body = Buffer.alloc(length.readUInt32LE());
      if (readSync(fd, body, 0, body.byteLength, position + 4) !== body.byteLength) throw new Error(`the spill file ${path} ends inside a frame: it was cut short`);
      position += 4 + body.byteLength;
      yield JSON.parse(inflateRawSync(body).toString()) as unknown[][];
    }
  } finally {
    closeSync(fd);
  }
}

/** A closed spill file's rows, a frame at a time, in the order they were written. */
export function* readSpill(path: string): Generator<LakeRow[]> {
  for (const columns of readSpillColumns(path)) yield toRows(columns);
}

/** A spill file's rows one at a time. */
export function* spillRows(path: string): Generator<LakeRow> {
  for (const frame of readSpill(path)) yield* frame;
}

export function removeSpill(path: string): void {
  rmSync(path, { force: true });
}
