/**
 * The consumer's own Parquet writer (lake-parquet-writer.ts) against the readers of the lake:
 * hyparquet as the compactor reads (readLakeRows) and real DuckDB give back exactly the rows
 * written, absent and null optional fields, non-ASCII strings and extreme numbers included,
 * over several row groups and pages; every row group carries event_time's bounds; and the
 * bytes are the ones hyparquet-writer's general writer, which the consumer used before,
 * wrote for the same rows and choices, whether written in one call or a row group at a time
 * (the compactor's files).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress } from '@bokuweb/zstd-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import { decompress as zstdDecompress } from 'fzstd';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lakeRowColumns } from '../../../lambdas/common/generated/lake-row-columns.js';
import { LAKE_COLUMNS } from '../../../lambdas/common/lake-columns.ts';
import { readLakeRows } from '../../../lambdas/compactor/parquet-reader.ts';
import { PHYSICAL, writeParquet } from '../../../lambdas/consumer/lake-parquet-writer.ts';
import { encodeParquet, lakeFileWriter } from '../../../lambdas/consumer/parquet-encoder.ts';
import { planBatch, type LakeRow } from '../../../lambdas/consumer/plan-batch.ts';
import { ShopperSimulator } from '../../../lambdas/simulator/simulator.ts';

const START = Date.UTC(2026, 10, 23, 12);
const dir = mkdtempSync(join(tmpdir(), 'lake-parquet-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// zstd's WebAssembly is started by the encoder, once: a second init() swaps the module under it
// (seen here as pages that did not decompress), so the direct writeParquet test borrows that one.
beforeAll(() => encodeParquet([]));

function simulatorRows(count: number, seed = 3): LakeRow[] {
  const sim = new ShopperSimulator({ seed, startTimeMs: START, eventsPerSecond: 100, dailyCurve: false, warmStart: true });
  const batch = Array.from({ length: count }, (_, i) => ({ topic: 'clickstream.events', partition: 4, offset: String(10_000_000_000 + i), value: sim.nextRecord().value }));
  return planBatch(batch, START + 7_200_000).flatMap((p) => p.events.flatMap((o) => [...o.rows]));
}

const lineage = (i: number) => ({ source_topic: 'clickstream.events', source_partition: 2_147_483_647, source_offset: String(90_000_000_000_000_000n + BigInt(i)), ingest_time: START + 3_600_000 });

/**
 * Rows at the edges: v2's optional fields absent or null, strings of 1 to 4 UTF-8 bytes a
 * character (combining marks, a lone surrogate's replacement, right-to-left, emoji), and the
 * numbers at the ends of their types (doubles the validator would refuse included: the writer
 * must not round or clamp them).
 */
const EDGE_ROWS: LakeRow[] = [
  { schema_version: 2, event_id: '00000000-0000-4000-8000-000000000001', event_type: 'page_view', event_time: -1, user_id: 'u', session_id: 's', page_url: 'https://shop.example/', referrer: null, traffic_source: 'direct', campaign: null, ...lineage(0) },
  {
    schema_version: 2,
    event_id: '00000000-0000-4000-8000-000000000002',
    event_type: 'purchase',
    event_time: 8_640_000_000_000_000,
    user_id: 'ü-用户-😀',
    session_id: 'e\u0301\u200d',
    page_url: 'https://例え.jp/ü?q=🎉&r=\uFFFD',
    referrer: 'https://שלום.example/عربى',
    product_id: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
    product_category: 'Ünïcödé',
    product_brand: '🙂🙃',
    product_price: 1.7976931348623157e308,
    quantity: 2_147_483_647,
    order_id: 'o-𐍈',
    revenue: 5e-324,
    user_age: -2_147_483_648,
    user_gender: 'undisclosed',
    user_country: 'ZZ',
    traffic_source: 'email',
    campaign: 'Ωmega',
    device_type: 'bot',
    os: 'ЛинуксOS',
    browser: '浏览器',
    ...lineage(1),
  },
  {
    schema_version: 2,
    event_id: '00000000-0000-4000-8000-000000000003',
    event_type: 'add_to_cart',
    event_time: 946_684_800_000,
    user_id: 'u',
    session_id: 's',
    page_url: 'https://shop.example/p',
    referrer: '',
    product_id: 'p',
    product_category: null,
    product_brand: null,
    product_price: 0.1 + 0.2,
    quantity: 1,
    order_id: null,
    revenue: null,
    user_age: null,
    user_gender: null,
    user_country: null,
    traffic_source: 'social',
    campaign: '',
    device_type: null,
    os: null,
    browser: null,
    ...lineage(2),
  },
  { schema_version: 1, event_id: '00000000-0000-4000-8000-000000000004', event_type: 'checkout', event_time: Number.MAX_SAFE_INTEGER, user_id: 'x'.repeat(64), session_id: 's', page_url: `https://shop.example/${'a'.repeat(2_000)}`, referrer: null, traffic_source: 'referral', campaign: null, user_age: 120, ...lineage(3) },
] as unknown as LakeRow[];

/** Every lake column of a row, null where the field is absent: what a SQL engine shows. */
const withNulls = (row: LakeRow) => Object.fromEntries(LAKE_COLUMNS.map((c) => [c.name, (row as unknown as Record<string, unknown>)[c.name] ?? null]));
/** The row without its null fields: what readLakeRows gives back (the compactor re-encodes it). */
const withoutNulls = (row: LakeRow) => Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null && value !== undefined));

async function duckdbRows(buffer: Buffer, name: string): Promise<Record<string, unknown>[]> {
  const file = join(dir, `${name}.parquet`);
  writeFileSync(file, buffer);
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const columns = LAKE_COLUMNS.map((c) => (c.type === 'timestamp_ms' ? `epoch_ms(${c.name})::VARCHAR AS ${c.name}` : c.name));
    const reader = await connection.runAndReadAll(`SELECT ${columns.join(', ')} FROM read_parquet('${file}') ORDER BY source_offset`);
    // Instants come back as BIGINT text (exact past 2^53 too), numbers as JSON numbers.
    return reader.getRowObjectsJson().map((r) => ({ ...r, event_time: Number(r.event_time), ingest_time: Number(r.ingest_time) }));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** In DuckDB's ORDER BY source_offset: the text's byte order. */
const arrayBuffer = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

const bySourceOffset = (rows: readonly LakeRow[]) => [...rows].sort((a, b) => (a.source_offset < b.source_offset ? -1 : 1));

describe('the lake Parquet writer', () => {
  const mixed = [...EDGE_ROWS, ...simulatorRows(3_000)];

  it.each([
    ['edge rows alone', EDGE_ROWS, EDGE_ROWS.length],
    ['edge rows among simulator rows, in row groups of 700', mixed, 700],
  ])('writes %s as hyparquet and DuckDB read them back', async (name, rows, rowGroupRows) => {
    const buffer = await encodeParquet(rows, rowGroupRows);
    expect(await readLakeRows(buffer)).toEqual(rows.map(withoutNulls));
    expect(await duckdbRows(buffer, name.replaceAll(' ', '-'))).toEqual(bySourceOffset(rows).map(withNulls));
  });

  it('cuts pages at about 1 MiB and reads back across them', async () => {
    const rows = simulatorRows(32_000, 8);
    const buffer = await encodeParquet(rows);
    const metadata = parquetMetadata(arrayBuffer(buffer));
    // 32,000 ids of 36 bytes are 1.1 MiB: two pages, found through the offset index.
    const eventId = metadata.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === 'event_id')!;
    expect(eventId.offset_index_length).toBeGreaterThan(0);
    expect(await readLakeRows(buffer)).toEqual(rows.map(withoutNulls));
    const read = await duckdbRows(buffer, 'pages');
    expect(read).toHaveLength(rows.length);
    expect(read).toEqual(bySourceOffset(rows).map(withNulls));
  }, 60_000);

  it('gives every row group event_time bounds and null counts, as hyparquet and DuckDB read them', async () => {
    const rows = [...EDGE_ROWS, ...simulatorRows(1_000)];
    const buffer = await encodeParquet(rows, 300);
    const metadata = parquetMetadata(arrayBuffer(buffer));
    expect(metadata.row_groups).toHaveLength(Math.ceil(rows.length / 300));
    const duckdbStats = await (async () => {
      const file = join(dir, 'stats.parquet');
      writeFileSync(file, buffer);
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      try {
        const reader = await connection.runAndReadAll(`SELECT row_group_id, epoch_ms(stats_min_value::TIMESTAMP) AS min, epoch_ms(stats_max_value::TIMESTAMP) AS max FROM parquet_metadata('${file}') WHERE path_in_schema = 'event_time' ORDER BY row_group_id`);
        return reader.getRowObjectsJson();
      } finally {
        connection.closeSync();
        db.closeSync();
      }
    })();
    metadata.row_groups.forEach((group, g) => {
      const times = rows.slice(g * 300, (g + 1) * 300).map((r) => r.event_time);
      const column = (name: string) => group.columns.find((c) => c.meta_data?.path_in_schema[0] === name)!.meta_data!;
      expect(column('event_time').statistics).toMatchObject({ min_value: new Date(Math.min(...times)), max_value: new Date(Math.max(...times)), null_count: 0n });
      expect(Number(duckdbStats[g]!.min)).toBe(Math.min(...times));
      expect(Number(duckdbStats[g]!.max)).toBe(Math.max(...times));
      const ages = rows.slice(g * 300, (g + 1) * 300).map((r) => r.user_age ?? null);
      expect(column('user_age').statistics?.null_count).toBe(BigInt(ages.filter((a) => a === null).length));
    });
  });

  it('refuses a row without a required column\'s value, saying which column', async () => {
    const [row] = EDGE_ROWS as unknown as Record<string, unknown>[];
    await expect(encodeParquet([{ ...row, user_id: undefined } as unknown as LakeRow])).rejects.toThrow(/column user_id is required/);
  });

  it('writes the bytes hyparquet-writer\'s general writer wrote for the same rows', async () => {
    for (const [rows, rowGroupRows] of [[mixed, 700], [simulatorRows(10_000, 1), 10_000], [EDGE_ROWS, 4]] as const) {
      expect((await encodeParquet(rows, rowGroupRows)).equals(generalWriter(rows, rowGroupRows))).toBe(true);
    }
  });

  it('writes the same bytes a row group at a time (the compactor\'s lakeFileWriter) as in one call', async () => {
    for (const [rows, rowGroupRows] of [[mixed, 700], [EDGE_ROWS, 4], [[], 10]] as const) {
      const writer = await lakeFileWriter();
      for (let start = 0; start < rows.length; start += rowGroupRows) writer.writeRowGroup(lakeRowColumns(rows.slice(start, start + rowGroupRows)));
      writer.writeRowGroup(lakeRowColumns([]));
      expect(writer.rows).toBe(rows.length);
      const file = Buffer.from(writer.finish());
      expect(file.equals(await encodeParquet(rows, rowGroupRows))).toBe(true);
      expect(file.equals(generalWriter(rows, rowGroupRows))).toBe(true);
    }
  });

  it('writes int64 and doubles at the ends of their ranges through writeParquet directly', async () => {
    const file = writeParquet({
      columns: [
        { name: 'n', type: 'int64', nullable: true, plain: false, statistics: true },
        { name: 'd', type: 'double', nullable: false, plain: true, statistics: true },
      ],
      data: [
        [-(2 ** 53) + 1, null, 2 ** 53 - 1],
        [-Infinity, Number.MIN_VALUE, Infinity],
      ],
      rowGroupRows: 2,
      compress: (bytes) => compress(bytes, 1),
      codec: 'ZSTD',
      createdBy: 'test',
    });
    const metadata = parquetMetadata(arrayBuffer(file));
    expect(metadata.schema.map((e) => e.type)).toEqual([undefined, 'INT64', 'DOUBLE']);
    const read = await parquetReadObjects({ file: arrayBuffer(file), compressors: { ZSTD: (input: Uint8Array, length: number) => zstdDecompress(input, new Uint8Array(length)) } });
    expect(read).toEqual([
      { n: -(2n ** 53n) + 1n, d: -Infinity },
      { n: null, d: Number.MIN_VALUE },
      { n: 2n ** 53n - 1n, d: Infinity },
    ]);
    expect(metadata.row_groups.map((g) => g.columns[0]!.meta_data!.statistics)).toMatchObject([
      { min_value: -(2n ** 53n) + 1n, max_value: -(2n ** 53n) + 1n, null_count: 1n },
      { min_value: 2n ** 53n - 1n, max_value: 2n ** 53n - 1n, null_count: 0n },
    ]);
  });
});

/**
 * The consumer's encoder before lake-parquet-writer.ts (main at 2523139): hyparquet-writer's
 * general writer with the same choices (ids and offsets PLAIN as bytes, statistics on numbers
 * and instants only, zstd level 1). If a hyparquet-writer upgrade changes its output, this
 * test says so: look at what changed before changing either side.
 */
function generalWriter(rows: readonly LakeRow[], rowGroupRows: number): Buffer {
  const unique = new Set(['event_id', 'source_offset']);
  const columns = lakeRowColumns(rows);
  const columnData = LAKE_COLUMNS.map((column, j) => {
    const data = unique.has(column.name) ? columns[j]!.map((value) => Buffer.from(value as string)) : columns[j]!;
    return { name: column.name, data, statistics: column.type !== 'string', ...(unique.has(column.name) && { encoding: 'PLAIN' as const }) };
  });
  const schema = [
    { name: 'root', num_children: LAKE_COLUMNS.length },
    ...LAKE_COLUMNS.map((c) => ({ name: c.name, ...PHYSICAL[c.type], repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const) })),
  ];
  return Buffer.from(parquetWriteBuffer({ columnData, schema, rowGroupSize: rowGroupRows, createdBy: 'clickstream-consumer', codec: 'ZSTD', compressors: { ZSTD: (bytes: Uint8Array) => compress(bytes, 1) } }));
}
