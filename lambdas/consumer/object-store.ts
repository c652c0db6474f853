/**
 * The storage the consumer writes to: an interface, and its S3 adapter (AWS S3,
 * LocalStack or MinIO). Conditional writes (If-Match / If-None-Match) are what S3
 * and MinIO offer for compare-and-swap.
 */
import { DeleteObjectsCommand, GetObjectCommand, NoSuchKey, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface StoredObject {
  readonly body: Buffer;
  readonly etag: string;
}

/** Write only if the object is unchanged since it was read (etag), or only if there is none yet. */
export type PutCondition = { readonly ifMatch: string } | { readonly ifNoneMatch: '*' };

export interface ListedObject {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly lastModifiedMs: number;
}

export class PreconditionFailedError extends Error {
  override readonly name = 'PreconditionFailedError';
}

export interface ObjectStore {
  /** The object's bytes and ETag, or undefined if there is no such object. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Writes the object and returns its new ETag; with a condition, throws PreconditionFailedError if it does not hold. */
  put(key: string, body: Buffer, contentType: string, condition?: PutCondition): Promise<string>;
  /** Deletes the objects; missing ones are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object under the prefix. */
  list(prefix: string): Promise<ListedObject[]>;
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: Buffer.from(await response.Body!.transformToByteArray()), etag: response.ETag ?? '' };
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  async put(key: string, body: Buffer, contentType: string, condition?: PutCondition): Promise<string> {
    try {
      const response = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(condition && 'ifMatch' in condition && { IfMatch: condition.ifMatch }),
          ...(condition && 'ifNoneMatch' in condition && { IfNoneMatch: condition.ifNoneMatch }),
        }),
      );
      return response.ETag ?? '';
    } catch (error) {
      if ((error as { name?: string }).name === 'PreconditionFailed') throw new PreconditionFailedError(`${key} changed while this batch was written`);
      throw error;
    }
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: this.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) {
        if (o.Key && o.ETag) objects.push({ key: o.Key, etag: o.ETag, size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 });
      }
    }
    return objects;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const response = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = response.Errors ?? [];
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} objects, first ${failed[0]?.Key}: ${failed[0]?.Message}`);
    }
  }
}
