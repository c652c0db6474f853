/**
 * An incremental local copy of the lake, so DuckDB (whose native build has no
 * S3 support without downloading an extension) can query it offline. Each sync
 * lists the bucket, fetches objects that are new or changed (by ETag) and
 * removes local files whose objects are gone, as happens when a retried batch
 * replaces its files.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

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
    private readonly prefixes: readonly string[] = ['events/', 'quarantine/'],
  ) {}

  async sync(): Promise<SyncResult> {
    const listed = new Map<string, string>();
    for (const prefix of this.prefixes) {
      let token: string | undefined;
      do {
        const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key && o.ETag) listed.set(o.Key, o.ETag);
        token = page.NextContinuationToken;
      } while (token);
    }

    let fetched = 0;
    let bytesFetched = 0;
    const changed = [...listed].filter(([key, etag]) => this.etags.get(key) !== etag);
    await inBatches(changed, 16, async ([key, etag]) => {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = await response.Body!.transformToByteArray();
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

async function inBatches<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += concurrency) await Promise.all(items.slice(i, i + concurrency).map(work));
}
