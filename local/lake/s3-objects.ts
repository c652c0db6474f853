/**
 * S3 listings of the lake and the one place a change in them is detected: the
 * lake mirror and the lake inventory both list with listLake and compare the
 * listing with what they hold by ETag with objectChanges.
 */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

export interface ListedObject {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

/** Keys added, changed (another ETag) and removed between what a reader holds and a newer listing. */
export interface ObjectChanges {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

export const NO_CHANGES: ObjectChanges = { added: [], changed: [], removed: [] };

/** Every object under a prefix, page by page. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key && o.ETag) objects.push({ key: o.Key, etag: o.ETag, size: o.Size ?? 0 });
  }
  return objects;
}

/** Every object under these prefixes, each prefix listed at the same time. */
export async function listLake(s3: S3Client, bucket: string, prefixes: readonly string[]): Promise<ListedObject[]> {
  return (await Promise.all(prefixes.map((prefix) => listObjects(s3, bucket, prefix)))).flat();
}

/** What a reader holding these ETags (key → ETag) must fetch and drop to match the listing. */
export function objectChanges(held: ReadonlyMap<string, string>, listed: readonly ListedObject[]): ObjectChanges {
  const added: string[] = [];
  const changed: string[] = [];
  for (const { key, etag } of listed) {
    const heldEtag = held.get(key);
    if (heldEtag === undefined) added.push(key);
    else if (heldEtag !== etag) changed.push(key);
  }
  const keys = new Set(listed.map((o) => o.key));
  return { added, changed, removed: [...held.keys()].filter((key) => !keys.has(key)) };
}
