/**
 * An incremental local copy of the lake, so DuckDB (whose native build has no
 * S3 support without downloading an extension) can query it offline. Each sync
 * lists the bucket, fetches objects that are new or changed (by ETag) and
 * removes local files whose objects are gone, as happens when a retried batch
 * replaces its files or the compactor deletes the files it replaced.
 *
 * The ETag of every file it holds is kept in an index file beside the copy,
 * written after each sync, so a restarted server fetches only what changed
 * since. The index names its bucket: a copy of another bucket is not trusted.
 *
 * The mirror is the lake's one change feed: each sync returns the keys it added,
 * changed and removed, and DuckDbLake applies exactly those.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { LAKE_PREFIXES } from '../../lambdas/common/pipeline-names.ts';
import { listLake, objectChanges, type ObjectChanges } from './s3-objects.ts';

export interface SyncResult {
  readonly objects: number;
  readonly fetched: number;
  readonly removed: number;
  readonly bytesFetched: number;
  /**
   * The keys the copy gained, replaced and lost since the last sync that returned: what a
   * reader of the copy (DuckDbLake) applies, so nothing downstream detects changes again.
   */
  readonly changes: ObjectChanges;
}

/** Beside the copy, not under a lake prefix, so no engine reads it as data. */
const INDEX_FILE = '.mirror-index.json';

interface MirrorIndex {
  readonly bucket: string;
  readonly etags: Record<string, string>;
}

export class LakeMirror {
  private readonly etags = new Map<string, string>();
  /**
   * What this copy did that no sync has returned yet. A change is handed on once, and a sync
   * that fails part way (the store goes down between two fetches) keeps what it did for the
   * next one to report.
   */
  private readonly unreported = new Map<string, 'added' | 'changed' | 'removed'>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly directory: string,
    private readonly prefixes: readonly string[] = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late, LAKE_PREFIXES.quarantine],
  ) {
    for (const [key, etag] of Object.entries(this.readIndex()?.etags ?? {})) if (existsSync(join(directory, key))) this.etags.set(key, etag);
  }

  /** The keys the copy holds now: where a reader starting over this copy begins, before the next sync's changes. */
  keys(): string[] {
    return [...this.etags.keys()];
  }

  /** The index of an earlier run over this bucket; undefined if there is none or it cannot be read (everything is fetched again). */
  private readIndex(): MirrorIndex | undefined {
    try {
      const index = JSON.parse(readFileSync(join(this.directory, INDEX_FILE), 'utf8')) as MirrorIndex;
      return index.bucket === this.bucket && typeof index.etags === 'object' ? index : undefined;
    } catch {
      return undefined;
    }
  }

  private writeIndex(): void {
    const file = join(this.directory, INDEX_FILE);
    mkdirSync(this.directory, { recursive: true });
    writeFileSync(`${file}.part`, JSON.stringify({ bucket: this.bucket, etags: Object.fromEntries(this.etags) } satisfies MirrorIndex));
    renameSync(`${file}.part`, file);
  }

  async sync(): Promise<SyncResult> {
    const listing = await listLake(this.s3, this.bucket, this.prefixes);
    const { added, changed, removed } = objectChanges(this.etags, listing);
    const etagOf = new Map(listing.map((o) => [o.key, o.etag]));

    let fetched = 0;
    let bytesFetched = 0;
    await mapWithLimit([...added, ...changed], 16, async (key) => {
      let body: Uint8Array;
      try {
        const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        body = await response.Body!.transformToByteArray();
      } catch (error) {
        // Deleted since the listing (the compactor removes replaced files): the next sync removes its copy.
        if (error instanceof NoSuchKey) return;
        throw error;
      }
      const file = join(this.directory, key);
      mkdirSync(dirname(file), { recursive: true });
      // Written aside and renamed, so a query never reads half a file.
      writeFileSync(`${file}.part`, body);
      renameSync(`${file}.part`, file);
      this.note(key, true);
      this.etags.set(key, etagOf.get(key)!);
      fetched++;
      bytesFetched += body.byteLength;
    });

    for (const key of removed) {
      rmSync(join(this.directory, key), { force: true });
      this.note(key, false);
      this.etags.delete(key);
    }
    if (this.unreported.size > 0) this.writeIndex();
    const changes = this.takeUnreported();
    return { objects: listing.length, fetched, removed: removed.length, bytesFetched, changes };
  }

  /** Records that the copy now holds (present) or no longer holds a key, as the reader will see it. */
  private note(key: string, present: boolean): void {
    const before = this.unreported.get(key);
    // Whether the reader holds the key: what the last returned sync left, unless a change is pending.
    const readerHolds = before === undefined ? this.etags.has(key) : before !== 'added';
    if (present) this.unreported.set(key, readerHolds ? 'changed' : 'added');
    else if (readerHolds) this.unreported.set(key, 'removed');
    else this.unreported.delete(key);
  }

  private takeUnreported(): ObjectChanges {
    const keysOf = (kind: 'added' | 'changed' | 'removed') => [...this.unreported].filter(([, k]) => k === kind).map(([key]) => key).sort();
    const changes = { added: keysOf('added'), changed: keysOf('changed'), removed: keysOf('removed') };
    this.unreported.clear();
    return changes;
  }
}
