/**
 * What the consumer path costs in the cloud per million events, from figures
 * this benchmark measured, beside Amazon Data Firehose's list price for the
 * same data converted to Parquet with dynamic partitioning. us-east-1 list
 * prices as of writing; every assumption is a named field so it can be checked.
 */

export const PRICES = {
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerRequest: 0.2 / 1e6,
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  athenaPerTb: 5,
  /** Lambda gives a function one full vCPU at this much memory, and a proportional share below it. */
  lambdaMbPerVcpu: 1769,
  /** Athena bills at least 10 MB per query. */
  athenaMinimumBytesPerQuery: 10 * 2 ** 20,
  /**
   * What opening a Parquet file reads besides its column chunks: Trino 476 (the engine Athena v3 runs)
   * reads the file's last 48 KiB for its footer, and counts it as read (physicalInputBytes; measured on
   * files of 50 KB to 10 MB, docs/benchmarks.md, "What opening a file costs"). Taken as billed.
   */
  athenaParquetOpenBytes: 48 * 1024,
  firehoseIngestPerGb: 0.029,
  /** With Amazon MSK as the source Firehose bills the bytes it reads, at its own rate, with no rounding. */
  firehoseMskIngestPerGb: 0.055,
  /** With Direct PUT or Kinesis as the source Firehose bills each record rounded up to a multiple of 5 KB. */
  firehoseRecordIncrementBytes: 5 * 1024,
  firehoseFormatConversionPerGb: 0.018,
  firehoseDynamicPartitioningPerGb: 0.02,
  /** CloudFront HTTPS requests, North America and Europe (the stack's price class). */
  cloudFrontHttpsPer10k: 0.01,
  /** Kinesis provisioned mode: one PUT payload unit per record up to 25 KB. */
  kinesisPutUnitsPerMillion: 0.014,
} as const;

export interface CollectorCost {
  readonly eventsPerRequest: number;
  readonly cloudFront: number;
  readonly lambda: number;
  readonly kinesis: number;
  readonly total: number;
}

/**
 * What the cloud bills per million collected events: a CloudFront request and a Lambda
 * invocation per tracker request, the function's time (its CPU per request plus the wait
 * for the stream's acknowledgement), and a Kinesis PUT unit per event. Trackers that batch
 * (Segment's batching strategy) divide the per-request part; Snowplow sends one event per
 * request by default.
 */
export function collectorCostPerMillionEvents(eventsPerRequest: number, secondsPerRequest: number, memoryMb: number): CollectorCost {
  if (!(eventsPerRequest >= 1) || !(secondsPerRequest > 0) || !(memoryMb > 0)) throw new Error('eventsPerRequest, secondsPerRequest and memoryMb must be positive');
  const requests = 1e6 / eventsPerRequest;
  const cloudFront = (requests / 1e4) * PRICES.cloudFrontHttpsPer10k;
  const lambda = requests * (PRICES.lambdaPerRequest + secondsPerRequest * (memoryMb / 1024) * PRICES.lambdaArmPerGbSecond);
  const kinesis = PRICES.kinesisPutUnitsPerMillion;
  return { eventsPerRequest, cloudFront, lambda, kinesis, total: cloudFront + lambda + kinesis };
}

export interface CostInputs {
  /** Average JSON event size (measured: the producer benchmark's payloads). */
  readonly eventBytes: number;
  /** Consumer core throughput on one full core (measured: the handler benchmark). */
  readonly handlerEventsPerSecond: number;
  /** Records per invocation: full batches at steady volume. */
  readonly batchSize: number;
  /** The consumer function's memory (the CDK construct's default). */
  readonly lambdaMemoryMb: number;
  /** Per invocation beyond the core: S3 round trips, logging (assumed). */
  readonly invocationOverheadSeconds: number;
  /** Event files written per million events (measured end to end). */
  readonly objectsPerMillionEvents: number;
  /** Source partitions one batch spans: one write-log read and write each. */
  readonly partitionsPerBatch: number;
}

export interface CostModel {
  readonly consumer: {
    readonly invocations: number;
    readonly gbSeconds: number;
    readonly lambdaDollars: number;
    readonly s3Requests: number;
    readonly s3Dollars: number;
    readonly dollars: number;
  };
  /** Firehose fed by Direct PUT or a Kinesis stream: the alternative for the Kinesis ingest (and for a Kafka of your own, which Firehose cannot read). */
  readonly firehose: { readonly billedGb: number; readonly dollars: number };
  /** Firehose reading from MSK: the alternative for the MSK Serverless ingest. */
  readonly firehoseFromMsk: { readonly billedGb: number; readonly dollars: number };
  /** Consumer cost over Firehose's (Direct PUT or Kinesis source) for the same million events. */
  readonly ratio: number;
  /** Consumer cost over Firehose's with MSK as its source. */
  readonly ratioToMsk: number;
}

const GB = 2 ** 30;

export function costPerMillionEvents(inputs: CostInputs): CostModel {
  const events = 1e6;
  const invocations = events / inputs.batchSize;
  const vcpuShare = Math.min(1, inputs.lambdaMemoryMb / PRICES.lambdaMbPerVcpu);
  const secondsPerInvocation = inputs.batchSize / (inputs.handlerEventsPerSecond * vcpuShare) + inputs.invocationOverheadSeconds;
  const gbSeconds = invocations * secondsPerInvocation * (inputs.lambdaMemoryMb / 1024);
  const lambdaDollars = gbSeconds * PRICES.lambdaArmPerGbSecond + invocations * PRICES.lambdaPerRequest;
  const logRequests = invocations * inputs.partitionsPerBatch;
  const puts = inputs.objectsPerMillionEvents + logRequests;
  const s3Dollars = (puts * PRICES.s3PutPer1000 + logRequests * PRICES.s3GetPer1000) / 1000;

  const billedRecordBytes = Math.ceil(inputs.eventBytes / PRICES.firehoseRecordIncrementBytes) * PRICES.firehoseRecordIncrementBytes;
  const ingestGb = (events * billedRecordBytes) / GB;
  const dataGb = (events * inputs.eventBytes) / GB;
  // Conversion and partitioning on the data's own size: the reading most favourable to Firehose.
  const conversionDollars = dataGb * (PRICES.firehoseFormatConversionPerGb + PRICES.firehoseDynamicPartitioningPerGb);
  const firehoseDollars = ingestGb * PRICES.firehoseIngestPerGb + conversionDollars;
  const firehoseFromMskDollars = dataGb * PRICES.firehoseMskIngestPerGb + conversionDollars;

  const consumerDollars = lambdaDollars + s3Dollars;
  return {
    consumer: { invocations, gbSeconds, lambdaDollars, s3Requests: puts + logRequests, s3Dollars, dollars: consumerDollars },
    firehose: { billedGb: ingestGb, dollars: firehoseDollars },
    firehoseFromMsk: { billedGb: dataGb, dollars: firehoseFromMskDollars },
    ratio: consumerDollars / firehoseDollars,
    ratioToMsk: consumerDollars / firehoseFromMskDollars,
  };
}

/**
 * Athena bytes billed for one dashboard refresh: each query scans the columns
 * it names over the events in its range, and is billed at least 10 MB.
 */
export function athenaRefreshBytes(queryColumns: readonly (readonly string[])[], columnBytesPerEvent: Readonly<Record<string, number>>, eventsInRange: number): number {
  return queryColumns.reduce((total, columns) => {
    const scanned = columns.reduce((n, c) => n + (columnBytesPerEvent[c] ?? 0), 0) * eventsInRange;
    return total + Math.max(PRICES.athenaMinimumBytesPerQuery, scanned);
  }, 0);
}

/**
 * Athena bytes billed for one refresh over a lake part raw, part compacted, part rolled up: each
 * query scans the columns its SQL names over the raw events (with the de-duplication window) and
 * over the compacted ones (without), at each part's own Parquet column sizes, and its rollup's
 * file over the rolled-up events; the open hours' folded parts are read as compacted files are, at
 * their own sizes; and each Parquet file it opens costs its footer's read (`filesOpened`). It is
 * billed at least 10 MB.
 */
export function athenaMixedRefreshBytes(
  queries: readonly { readonly raw: readonly string[]; readonly compacted: readonly string[]; readonly rollupBytesPerEvent?: number; readonly filesOpened?: number }[],
  columnBytes: { readonly raw: Readonly<Record<string, number>>; readonly compacted: Readonly<Record<string, number>>; readonly folded?: Readonly<Record<string, number>>; readonly merged?: Readonly<Record<string, number>> },
  events: { readonly raw: number; readonly compacted: number; readonly rolledUp?: number; readonly folded?: number; readonly merged?: number },
): number {
  const scan = (columns: readonly string[], sizes: Readonly<Record<string, number>>, n: number) => columns.reduce((total, c) => total + (sizes[c] ?? 0), 0) * n;
  return queries.reduce((total, q) => {
    const scanned =
      scan(q.raw, columnBytes.raw, events.raw) +
      scan(q.compacted, columnBytes.compacted, events.compacted) +
      scan(q.compacted, columnBytes.folded ?? columnBytes.compacted, events.folded ?? 0) +
      scan(q.compacted, columnBytes.merged ?? columnBytes.folded ?? columnBytes.compacted, events.merged ?? 0) +
      (q.rollupBytesPerEvent ?? 0) * (events.rolledUp ?? 0) +
      (q.filesOpened ?? 0) * PRICES.athenaParquetOpenBytes;
    return total + Math.max(PRICES.athenaMinimumBytesPerQuery, scanned);
  }, 0);
}

export function athenaDollars(bytes: number): number {
  return (bytes / 2 ** 40) * PRICES.athenaPerTb;
}

/**
 * Dashboard refreshes of one open page that reach Athena in an hour. A refresh
 * reaches it only when its URL is new (the aligned range moved on a step) or the
 * cached answer for it expired; CloudFront or the function's cache answers the
 * rest. So one refresh reaches Athena every max(refresh, min(step, cache))
 * seconds; unaligned ranges (step 0) make every URL new, every refresh a query.
 */
export function athenaRefreshesPerHour(refreshSeconds: number, rangeStepSeconds: number, cacheSeconds: number): number {
  if (!(refreshSeconds > 0)) throw new Error(`refreshSeconds must be above 0, got ${refreshSeconds}`);
  return 3_600 / Math.max(refreshSeconds, Math.min(rangeStepSeconds, cacheSeconds));
}
