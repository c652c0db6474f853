/**
 * A lake of simulated events for the benchmarks, written by the consumer core
 * (the same Parquet keys and files a real run writes), and what each column of it
 * costs to scan.
 */
import { parquetMetadata } from 'hyparquet';
import { readLakeColumn } from '../../lambdas/compactor/parquet-reader.ts';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { planBatch } from '../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';

export interface SimulatedLake {
  readonly files: number;
  readonly bytes: number;
  /** Parquet bytes per event of each column (compressed, from a sample of the files' footers): what a scan of it costs. */
  readonly columnBytesPerEvent: Readonly<Record<string, number>>;
}

/**
 * `events` simulator events spread evenly over [startMs, startMs + spanMs), in
 * consumer batches of 10,000, each ingested a second after its newest event as a
 * live consumer would (so rows land in their raw hours, not in late files);
 * `write` stores each object under its lake key.
 */
export async function simulateLake(
  events: number,
  startMs: number,
  spanMs: number,
  write: (key: string, body: Uint8Array) => Promise<void>,
  log: (line: string) => void = () => undefined,
): Promise<SimulatedLake> {
  const sim = new ShopperSimulator({ seed: 3, startTimeMs: startMs, eventsPerSecond: events / (spanMs / 1000), warmStart: true, dailyCurve: false });
  let files = 0;
  let bytes = 0;
  const sample: Uint8Array[] = [];
  for (let offset = 0; offset < events; offset += 10_000) {
    const batch: SourceRecord[] = [];
    let newest = startMs;
    for (let i = 0; i < Math.min(10_000, events - offset); i++) {
      const r = sim.nextRecord();
      newest = Math.max(newest, r.event?.event_time ?? newest);
      batch.push({ topic: 'bench', partition: 0, offset: String(offset + i), value: r.value });
    }
    for (const plan of planBatch(batch, newest + 1_000)) {
      for (const object of plan.events) {
        const body = await encodeParquet(object.rows);
        await write(object.key, body);
        if (files % 25 === 0) sample.push(body);
        files++;
        bytes += body.length;
      }
    }
    if (offset % 1_000_000 === 0) log(`lake: ${offset.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} events written`);
  }
  return { files, bytes, columnBytesPerEvent: columnSizes(sample) };
}

/** A Parquet file's footer. */
const metadataOf = (buffer: Uint8Array) => parquetMetadata(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer);

/** Compressed bytes per row of each column, over some Parquet files. */
export function columnSizes(files: readonly Uint8Array[], perEvents?: number): Record<string, number> {
  const bytes: Record<string, number> = {};
  let rows = 0;
  for (const buffer of files) {
    const metadata = metadataOf(buffer);
    rows += Number(metadata.num_rows);
    for (const group of metadata.row_groups) {
      for (const column of group.columns) {
        const name = column.meta_data?.path_in_schema[0];
        if (name) bytes[name] = (bytes[name] ?? 0) + Number(column.meta_data?.total_compressed_size ?? 0);
      }
    }
  }
  return Object.fromEntries(Object.entries(bytes).map(([name, total]) => [name, total / Math.max(1, perEvents ?? rows)]));
}

/**
 * What a suffix of an hour reads of each column of these rollup files, whose rows are sorted by
 * `timeColumn` in row groups (a range's partial first hour, dashboard-statement.ts suffixOf): for the
 * suffix from each minute 0 to 59 of the hour, the bytes of the row groups whose largest
 * `timeColumn` (a statistic an engine skips row groups by) is at or after that minute.
 */
export function suffixColumnBytes(files: readonly Uint8Array[], hourStart: number, timeColumn: string): Record<string, number[]> {
  const bytes: Record<string, number[]> = {};
  for (const buffer of files) {
    const metadata = metadataOf(buffer);
    for (const group of metadata.row_groups) {
      const time = group.columns.find((c) => c.meta_data?.path_in_schema[0] === timeColumn)?.meta_data?.statistics;
      const newest = time?.max_value ?? time?.max;
      if (newest === undefined || newest === null) throw new Error(`a row group of a rollup file has no statistics of ${timeColumn}`);
      const newestMs = newest instanceof Date ? newest.getTime() : Number(newest);
      for (const column of group.columns) {
        const name = column.meta_data?.path_in_schema[0];
        if (!name) continue;
        const perMinute = (bytes[name] ??= new Array<number>(60).fill(0));
        for (let minute = 0; minute < 60; minute++) if (newestMs >= hourStart + minute * 60_000) perMinute[minute]! += Number(column.meta_data?.total_compressed_size ?? 0);
      }
    }
  }
  return bytes;
}

/**
 * What a range starting inside one of these parts reads beyond its start, as a share of the part's
 * rows, averaged over starts a second apart across the part's event times: the rows of the row
 * groups an engine cannot skip (their newest event time at or after the start: the fold's parts are
 * grouped by the minute their sessions end, rowGroupsBySessionEnd) less the rows at or after the start.
 */
export async function partOverRead(files: readonly Uint8Array[]): Promise<number> {
  let [share, parts] = [0, 0];
  for (const buffer of files) {
    const groups = metadataOf(buffer).row_groups.map((group) => {
      const time = group.columns.find((c) => c.meta_data?.path_in_schema[0] === 'event_time')?.meta_data?.statistics;
      const newest = time?.max_value ?? time?.max;
      if (newest === undefined || newest === null) throw new Error('a row group of a part has no statistics of event_time');
      return { rows: Number(group.num_rows), newestMs: newest instanceof Date ? newest.getTime() : Number(newest) };
    });
    const times = ((await readLakeColumn(buffer, 'event_time')) as number[]).sort((a, b) => a - b);
    if (times.length === 0) continue;
    let [overRead, starts] = [0, 0];
    for (let start = times[0]!; start <= times.at(-1)!; start += 1_000, starts++) {
      const read = groups.reduce((n, g) => n + (g.newestMs >= start ? g.rows : 0), 0);
      let [lo, hi] = [0, times.length];
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (times[mid]! < start) lo = mid + 1;
        else hi = mid;
      }
      overRead += read - (times.length - lo);
    }
    share += overRead / starts / times.length;
    parts++;
  }
  return parts > 0 ? share / parts : 0;
}
