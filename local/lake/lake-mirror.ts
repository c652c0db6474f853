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
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { LAKE_PREFIXES } from '../../lambdas/common/pipeline-names.ts';
import { listObjects } from './s3-objects.ts';

export interface SyncResult {
  readonly objects: number;
  readonly fetched: number;
  readonly removed: number;
  readonly bytesFetched: number;
}

/** Beside the copy, not under a lake prefix, so no engine reads it as data. */
const INDEX_FILE = '.mirror-index.json';

interface MirrorIndex {
  readonly bucket: string;
  readonly etags: Record<string, string>;
}

export class LakeMirror {
  private readonly etags = new Map<string, string>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly directory: string,
    private readonly prefixes: readonly string[] = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late, LAKE_PREFIXES.quarantine],
  ) {
    for (const [key, etag] of Object.entries(this.readIndex()?.etags ?? {})) if (existsSync(join(directory, key))) this.etags.set(key, etag);
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
    const listed = new Map<string, string>();
    for (const prefix of this.prefixes) for (const o of await listObjects(this.s3, this.bucket, prefix)) listed.set(o.key, o.etag);

    let fetched = 0;
    let bytesFetched = 0;
    const changed = [...listed].filter(([key, etag]) => this.etags.get(key) !== etag);
    await mapWithLimit(changed, 16, async ([key, etag]) => {
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
      this.etags.set(key, etag);
      fetched++;
      bytesFetched += body.byteLength;
    });

    let removed = 0;
    for (const key of [...this.etags.keys()]) {
      if (!listed.has(key)) {
        rmSync(join(this.directory, key), { force: true });
        this.etags.delete(key);
        removed++;
      }
    }
    if (fetched > 0 || removed > 0) this.writeIndex();
    return { objects: listed.size, fetched, removed, bytesFetched };
  }
}
