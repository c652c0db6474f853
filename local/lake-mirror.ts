/**
 * An incremental local copy of the lake, so DuckDB (whose native build has no
 * S3 support without downloading an extension) can query it offline. Each sync
 * lists the bucket, fetches objects that are new or changed (by ETag) and
 * removes local files whose objects are gone, as happens when a retried batch
 * replaces its files or the compactor deletes the files it replaced.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { mapWithLimit } from '../lambdas/common/map-with-limit.ts';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { listObjects } from './s3-objects.ts';

export interface SyncResult {
  readonly objects: number;
  readonly fetched: number;
  readonly removed: number;
  readonly bytesFetched: number;
}

export class LakeMirror {
  private readonly etags = new Map<string, string>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    readonly directory: string,
    private readonly prefixes: readonly string[] = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late, LAKE_PREFIXES.quarantine],
  ) {}

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
    return { objects: listed.size, fetched, removed, bytesFetched };
  }
}
