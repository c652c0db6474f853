/**
 * Rows on local disk (Lambda's /tmp) while the compactor works through an hour
 * in slices: frames of up to FRAME_ROWS rows, each a length and the rows as a
 * JSON array of value arrays (the lake columns' order) deflated at level 1.
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

const toValues = (row: LakeRow): unknown[] => NAMES.map((name) => (row as unknown as Record<string, unknown>)[name] ?? null);

function toRow(values: readonly unknown[]): LakeRow {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < NAMES.length; i++) if (values[i] !== null) row[NAMES[i]!] = values[i];
  return row as unknown as LakeRow;
}

/** A spill file being written: rows appended, frames flushed as they fill. */
export class SpillWriter {
  private readonly fd: number;
  private frame: unknown[][] = [];
  /** Rows appended so far. */
  rows = 0;
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  push(row: LakeRow): void {
    this.frame.push(toValues(row));
    this.rows++;
    if (this.frame.length >= FRAME_ROWS) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.frame.length === 0) return;
    const body = deflateRawSync(JSON.stringify(this.frame), { level: 1 });
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.byteLength);
    writeSync(this.fd, length);
    writeSync(this.fd, body);
    this.bytes += 4 + body.byteLength;
    this.frame = [];
  }
}

/** A closed spill file's rows, a frame at a time, in the order they were written. */
export function* readSpill(path: string): Generator<LakeRow[]> {
  const fd = openSync(path, 'r');
  try {
    const length = Buffer.alloc(4);
    let position = 0;
    while (readSync(fd, length, 0, 4, position) === 4) {
      const body = Buffer.alloc(length.readUInt32LE());
      if (readSync(fd, body, 0, body.byteLength, position + 4) !== body.byteLength) throw new Error(`the spill file ${path} ends inside a frame: it was cut short`);
      position += 4 + body.byteLength;
      yield (JSON.parse(inflateRawSync(body).toString()) as unknown[][]).map(toRow);
    }
  } finally {
    closeSync(fd);
  }
}

/** A spill file's rows one at a time. */
export function* spillRows(path: string): Generator<LakeRow> {
  for (const frame of readSpill(path)) yield* frame;
}

export function removeSpill(path: string): void {
  rmSync(path, { force: true });
}
