/**
 * What the lake holds, read from S3 itself: the event files a reader reads now
 * (the compaction manifest's committed files, raw hours not compacted, late
 * files not folded), their objects and bytes, rows from each Parquet footer, the newest event and ingest times from the footers' column
 * statistics, and quarantined records counted from the JSON lines. Footers are
 * fetched with one range request each and remembered by ETag, so a long-lived
 * inventory (the run command's status line) reads each file once: the listing
 * and the test for what changed are the mirror's own (s3-objects.ts).
 */
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { MANIFEST_KEY, parseManifest, readableEventKeys } from '../../lambdas/common/compaction-manifest.ts';
import { parquetMetadataAsync, type AsyncBuffer } from 'hyparquet';
import { LAKE_PREFIXES } from '../../lambdas/common/pipeline-names.ts';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { listLake, objectChanges, type ListedObject } from './s3-objects.ts';


export interface LakeInventory {
  readonly eventObjects: number;
  readonly eventBytes: number;
  /** Rows in the Parquet files: a re-sent event counts once per copy (queries count it once). */
  readonly eventRows: number;
  readonly newestEventTimeMs: number | null;
  readonly newestIngestTimeMs: number | null;
  readonly quarantineObjects: number;
  readonly quarantinedRecords: number;
}

interface FileFacts {
  readonly etag: string;
  readonly rows: number;
  readonly newestEventTimeMs: number | null;
  readonly newestIngestTimeMs: number | null;
}

// Footers of the consumer's files are a few KiB; a bigger one costs a second request.
const FOOTER_FETCH_BYTES = 64 * 1024;

export class LakeInventoryReader {
  private readonly facts = new Map<string, FileFacts>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async read(): Promise<LakeInventory> {
    // The manifest before the listings: a file it names is listed until long after it is replaced.
    const manifest = parseManifest(await this.manifest());
    const listing = await listLake(this.s3, this.bucket, [LAKE_PREFIXES.events, LAKE_PREFIXES.late, LAKE_PREFIXES.compacted, LAKE_PREFIXES.quarantine]);
    const under = (prefix: string, extension: string) => listing.filter((o) => o.key.startsWith(prefix) && o.key.endsWith(extension));
    const [raw, late, compacted, quarantine] = [
      under(LAKE_PREFIXES.events, '.parquet'),
      under(LAKE_PREFIXES.late, '.parquet'),
      under(LAKE_PREFIXES.compacted, '.parquet'),
      under(LAKE_PREFIXES.quarantine, '.jsonl'),
    ];
    const readable = new Set(readableEventKeys(manifest, { raw: raw.map((o) => o.key), late: late.map((o) => o.key) }));
    const events = [...raw, ...late, ...compacted].filter((o) => readable.has(o.key));

    // Facts are read again only for files new or changed since the last read.
    const counted = new Map([...events, ...quarantine].map((o) => [o.key, o]));
    const { added, changed, removed } = objectChanges(new Map([...this.facts].map(([key, f]) => [key, f.etag])), [...counted.values()]);
    for (const key of removed) this.facts.delete(key);
    await mapWithLimit([...added, ...changed], 16, async (key) => {
      const object = counted.get(key)!;
      this.facts.set(key, key.endsWith('.parquet') ? await this.parquetFacts(object) : await this.jsonLinesFacts(object));
    });
    const eventFacts = events.map((o) => this.facts.get(o.key)!);
    const quarantineFacts = quarantine.map((o) => this.facts.get(o.key)!);
    return {
      eventObjects: events.length,
      eventBytes: events.reduce((n, o) => n + o.size, 0),
      eventRows: eventFacts.reduce((n, f) => n + f.rows, 0),
      newestEventTimeMs: newest(eventFacts.map((f) => f.newestEventTimeMs)),
      newestIngestTimeMs: newest(eventFacts.map((f) => f.newestIngestTimeMs)),
      quarantineObjects: quarantine.length,
      quarantinedRecords: quarantineFacts.reduce((n, f) => n + f.rows, 0),
    };
  }

  private async manifest(): Promise<Buffer | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: MANIFEST_KEY }));
      return Buffer.from(await response.Body!.transformToByteArray());
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  private async parquetFacts(object: ListedObject): Promise<FileFacts> {
    const file: AsyncBuffer = {
      byteLength: object.size,
      slice: async (start, end) => {
        // IfMatch: a file replaced between listing and reading is an error, read again next time.
        const range = `bytes=${start}-${(end ?? object.size) - 1}`;
        const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key, Range: range, IfMatch: object.etag }));
        const bytes = await response.Body!.transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    };
    const metadata = await parquetMetadataAsync(file, { initialFetchSize: Math.min(FOOTER_FETCH_BYTES, object.size) });
    const columnMax = (name: string) =>
      newest(
        metadata.row_groups.map((group) => {
          const max = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === name)?.meta_data?.statistics?.max_value;
          return max instanceof Date ? max.getTime() : typeof max === 'bigint' || typeof max === 'number' ? Number(max) : null;
        }),
      );
    return { etag: object.etag, rows: Number(metadata.num_rows), newestEventTimeMs: columnMax('event_time'), newestIngestTimeMs: columnMax('ingest_time') };
  }

  private async jsonLinesFacts(object: ListedObject): Promise<FileFacts> {
    const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key, IfMatch: object.etag }));
    const text = await response.Body!.transformToString();
    return { etag: object.etag, rows: text.split('\n').filter((line) => line.trim() !== '').length, newestEventTimeMs: null, newestIngestTimeMs: null };
  }
}

function newest(values: readonly (number | null)[]): number | null {
  return values.reduce<number | null>((max, v) => (v !== null && (max === null || v > max) ? v : max), null);
}
