/**
 * The storage the consumer writes to: an interface, and its S3 adapter (AWS S3,
 * LocalStack or MinIO) over the project's S3 transport (lambdas/common/s3-transport.ts).
 * Conditional writes (If-Match / If-None-Match) are what S3 and MinIO offer for
 * compare-and-swap. The compactor and the query API use the same adapter.
 */
import { createHash } from 'node:crypto';
import { S3Error, S3Transport, s3SettingsFromEnv, xmlElements, xmlEscape, xmlValue, type S3Settings } from '../common/s3-transport.ts';

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

/** S3 lists at most 1,000 keys a page, and deletes at most 1,000 in one call. */
const S3_PAGE = 1000;

export class S3ObjectStore implements ObjectStore {
  private readonly s3: S3Transport;

  /** `listPageSize` is for tests, to list over several pages. */
  constructor(
    settings: S3Settings,
    readonly bucket: string,
    private readonly listPageSize = S3_PAGE,
  ) {
    this.s3 = new S3Transport(settings);
  }

  /** The store a Lambda uses: its settings from the environment (see s3SettingsFromEnv). */
  static fromEnv(bucket: string, env: NodeJS.ProcessEnv = process.env): S3ObjectStore {
    return new S3ObjectStore(s3SettingsFromEnv(env), bucket);
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const response = await this.s3.send({ method: 'GET', bucket: this.bucket, key });
      return { body: response.body, etag: etagOf(response.headers.etag) };
    } catch (error) {
      if (error instanceof S3Error && error.code === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async put(key: string, body: Buffer, contentType: string, condition?: PutCondition): Promise<string> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (condition && 'ifMatch' in condition) headers['if-match'] = condition.ifMatch;
    if (condition && 'ifNoneMatch' in condition) headers['if-none-match'] = condition.ifNoneMatch;
    try {
      const response = await this.s3.send({ method: 'PUT', bucket: this.bucket, key, headers, body });
      return etagOf(response.headers.etag);
    } catch (error) {
      if (error instanceof S3Error && error.status === 412) throw new PreconditionFailedError(`${key} changed since it was read: another writer's conditional PUT came first`, { cause: error });
      throw error;
    }
  }

  async list(prefix: string): Promise<ListedObject[]> {
    const objects: ListedObject[] = [];
    let token: string | undefined;
    do {
      const query = { 'list-type': '2', 'max-keys': String(this.listPageSize), ...(prefix && { prefix }), ...(token && { 'continuation-token': token }) };
      const page = (await this.s3.send({ method: 'GET', bucket: this.bucket, query })).body.toString('utf8');
      for (const o of xmlElements(page, 'Contents')) {
        const key = xmlValue(o, 'Key');
        const etag = xmlValue(o, 'ETag');
        if (key && etag) objects.push({ key, etag: etagOf(etag), size: Number(xmlValue(o, 'Size') ?? 0), lastModifiedMs: Date.parse(xmlValue(o, 'LastModified') ?? '') || 0 });
      }
      token = xmlValue(page, 'IsTruncated') === 'true' ? xmlValue(page, 'NextContinuationToken') : undefined;
    } while (token);
    return objects;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += S3_PAGE) {
      const chunk = keys.slice(i, i + S3_PAGE);
      const body = Buffer.from(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${chunk.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('')}</Delete>`);
      // S3 takes a multi-object delete only with a checksum of its body.
      const headers = { 'content-type': 'application/xml', 'content-md5': createHash('md5').update(body).digest('base64') };
      const response = await this.s3.send({ method: 'POST', bucket: this.bucket, query: { delete: '' }, headers, body });
      const failed = xmlElements(response.body.toString('utf8'), 'Error');
      if (failed.length > 0) throw new Error(`could not delete ${failed.length} objects from s3://${this.bucket}, first ${xmlValue(failed[0]!, 'Key')}: ${xmlValue(failed[0]!, 'Code')}: ${xmlValue(failed[0]!, 'Message')}`);
    }
  }

  /** Closes the kept-alive connections (for a process that is done with the store). */
  destroy(): void {
    this.s3.destroy();
  }
}

/** ETags as S3 writes them, in quotes, whichever way a server sent them (the SDK gave them so). */
const etagOf = (etag: string | undefined) => (!etag ? '' : etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`);
