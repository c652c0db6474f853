/** Small helpers over S3 listings, shared by the lake mirror and the lake inventory. */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

export interface ListedObject {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

/** Every object under a prefix, page by page. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) if (o.Key && o.ETag) objects.push({ key: o.Key, etag: o.ETag, size: o.Size ?? 0 });
  }
  return objects;
}
