/**
 * An ObjectStore over a local directory, for tests that run the real consumer and
 * compactor without an S3 server: the local engine reads the same directory as
 * it reads its mirror. Conditional writes compare an MD5 ETag, as S3's.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { PreconditionFailedError, type ListedObject, type ObjectStore, type PutCondition, type StoredObject } from '../lambdas/consumer/object-store.ts';
import { objectChanges, type ObjectChanges } from '../local/lake/s3-objects.ts';

/** The prefixes LakeMirror copies. */
const MIRRORED_PREFIXES = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late, LAKE_PREFIXES.quarantine];

const etagOf = (body: Uint8Array) => `"${createHash('md5').update(body).digest('hex')}"`;

export class DirectoryStore implements ObjectStore {
  constructor(readonly directory: string) {}

  get(key: string): Promise<StoredObject | undefined> {
    const file = join(this.directory, key);
    if (!existsSync(file)) return Promise.resolve(undefined);
    const body = readFileSync(file);
    return Promise.resolve({ body, etag: etagOf(body) });
  }

  async put(key: string, body: Buffer, _contentType: string, condition?: PutCondition): Promise<string> {
    const current = await this.get(key);
    if (condition && ('ifMatch' in condition ? current?.etag !== condition.ifMatch : current !== undefined)) throw new PreconditionFailedError(`${key} changed`);
    const file = join(this.directory, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.part`, body);
    renameSync(`${file}.part`, file);
    return etagOf(body);
  }

  delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) rmSync(join(this.directory, key), { force: true });
    return Promise.resolve();
  }

  list(prefix: string): Promise<ListedObject[]> {
    const root = join(this.directory, prefix.split('/')[0]!);
    if (!existsSync(root)) return Promise.resolve([]);
    const objects: ListedObject[] = [];
    for (const entry of readdirSync(root, { recursive: true })) {
      const file = join(root, String(entry));
      const key = relative(this.directory, file).split(sep).join('/');
      const stat = statSync(file);
      if (!stat.isFile() || !key.startsWith(prefix) || key.endsWith('.part')) continue;
      objects.push({ key, etag: etagOf(readFileSync(file)), size: stat.size, lastModifiedMs: stat.mtimeMs });
    }
    return Promise.resolve(objects.sort((a, b) => (a.key < b.key ? -1 : 1)));
  }
}

/**
 * What LakeMirror hands DuckDbLake, for a directory the tests write directly: the keys
 * added, changed and removed since the last call, by the mirror's own objectChanges.
 */
export class DirectoryFeed {
  private readonly held = new Map<string, string>();
  constructor(private readonly store: DirectoryStore) {}

  async changes(): Promise<ObjectChanges> {
    const listed = (await Promise.all(MIRRORED_PREFIXES.map((prefix) => this.store.list(prefix)))).flat();
    const changes = objectChanges(this.held, listed);
    this.held.clear();
    for (const o of listed) this.held.set(o.key, o.etag);
    return changes;
  }
}
