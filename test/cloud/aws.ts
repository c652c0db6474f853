/**
 * Readers for the deployed stack that share no code with it: AWS SDK clients
 * pointed straight at LocalStack, the stream read with GetRecords, the lake listed
 * and downloaded with the S3 API, and Parquet read by DuckDB.
 */
import { PARTITIONS_FROM_EVENT_TIME } from '../../local/lake/duckdb-lake.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, type _Record } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { inject } from 'vitest';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const cloud = inject('cloud');
const clientConfig = { endpoint: cloud.endpoint, region: cloud.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

export const lambda = new LambdaClient(clientConfig);
// HTTP/1.1: over the client's default HTTP/2, LocalStack's Kinesis intermittently closes the session (see lambdas/ingest/kinesis-producer.ts).
export const kinesis = new KinesisClient({ ...clientConfig, requestHandler: new NodeHttpHandler() });
export const events = new EventBridgeClient(clientConfig);
export const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
const cloudFormation = new CloudFormationClient(clientConfig);

export const streamName = cloud.outputs.IngestTopic!;
export const streamArn = cloud.outputs.IngestEndpoint!;
export const lakeBucket = cloud.outputs.LakeBucket!;

/** The physical id of the stack's one resource of a type whose logical id starts with a prefix. */
export async function physicalId(type: string, logicalIdPrefix: string): Promise<string> {
  const { StackResources = [] } = await cloudFormation.send(new DescribeStackResourcesCommand({ StackName: cloud.stackName }));
  const found = StackResources.filter((r) => r.ResourceType === type && r.LogicalResourceId?.startsWith(logicalIdPrefix));
  if (found.length !== 1 || !found[0]!.PhysicalResourceId) throw new Error(`expected one ${type} named ${logicalIdPrefix}*, found ${found.length}`);
  return found[0]!.PhysicalResourceId;
}

export interface StreamRecord {
  readonly shardId: string;
  readonly record: _Record;
}

/** Every record in the stream, from the oldest kept, shard by shard. */
export async function readStream(): Promise<StreamRecord[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const all: StreamRecord[] = [];
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) all.push({ shardId: shard.ShardId!, record });
      // An empty page at the tip (MillisBehindLatest 0) ends the read.
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return all;
}

export async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: lakeBucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function getText(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: lakeBucket, Key: key }));
  return object.Body!.transformToString();
}

/** Downloads objects and runs SQL on them in DuckDB as the view `events` (Hive partitions read from the paths). */
export async function queryParquet(keys: readonly string[], sql: string): Promise<Record<string, unknown>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-cloud-lake-'));
  try {
    for (const key of keys) {
      const object = await s3.send(new GetObjectCommand({ Bucket: lakeBucket, Key: key }));
      const path = join(dir, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await object.Body!.transformToByteArray());
    }
    const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
    const connection = await db.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      // Partition columns from each row's own event time: a late file's path names its ingest hour.
      await connection.run(`CREATE VIEW events AS SELECT *, ${PARTITIONS_FROM_EVENT_TIME} FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = false, union_by_name = true)`);
      return (await connection.runAndReadAll(sql)).getRowObjectsJson();
    } finally {
      // Called on every poll: close the instance too, not only the connection.
      connection.closeSync();
      db.closeSync();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls until `check` returns a value, or throws `what` after the time limit. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000, everyMs = 2_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
