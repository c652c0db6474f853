import { describe, expect, it } from 'vitest';
import { athenaDollars, athenaMixedRefreshBytes, athenaRefreshBytes, collectorCostPerMillionEvents, athenaRefreshesPerHour, costPerMillionEvents, PRICES } from '../../local/bench/cost-model.ts';

describe('cost model', () => {
  const inputs = {
    eventBytes: 600,
    handlerEventsPerSecond: 100_000,
    batchSize: 10_000,
    lambdaMemoryMb: 1024,
    invocationOverheadSeconds: 0.2,
    objectsPerMillionEvents: 500,
    partitionsPerBatch: 6,
  };

  it('prices the consumer from invocations, GB-seconds and S3 requests', () => {
    const model = costPerMillionEvents(inputs);
    // 1,024 MB is 1024/1769 of a vCPU, so the 0.1 s of core work takes 0.1 × 1769/1024 s; plus 0.2 s; × 1 GB × 100.
    const gbSeconds = 100 * (0.1 * (1769 / 1024) + 0.2);
    expect(model.consumer.invocations).toBe(100);
    expect(model.consumer.gbSeconds).toBeCloseTo(gbSeconds, 9);
    expect(model.consumer.lambdaDollars).toBeCloseTo(gbSeconds * 0.0000133334 + 100 * 0.2e-6, 12);
    // At 1,769 MB and above the function has a whole vCPU.
    expect(costPerMillionEvents({ ...inputs, lambdaMemoryMb: 3538 }).consumer.gbSeconds).toBeCloseTo(100 * (0.1 + 0.2) * (3538 / 1024), 9);
    // 500 files + 600 write-log PUTs, and 600 write-log GETs.
    expect(model.consumer.s3Requests).toBe(1_700);
    expect(model.consumer.s3Dollars).toBeCloseTo((1_100 * 0.005 + 600 * 0.0004) / 1000, 12);
  });

  it('rounds every Firehose record up to 5 KB for ingestion, and compares', () => {
    const model = costPerMillionEvents(inputs);
    const ingestGb = (1e6 * 5 * 1024) / 2 ** 30;
    const dataGb = (1e6 * 600) / 2 ** 30;
    expect(model.firehose.billedGb).toBeCloseTo(ingestGb, 9);
    expect(model.firehose.dollars).toBeCloseTo(ingestGb * 0.029 + dataGb * (0.018 + 0.02), 9);
    expect(model.ratio).toBeCloseTo(model.consumer.dollars / model.firehose.dollars, 12);
    // Reading from MSK, Firehose bills the bytes themselves at its MSK rate.
    expect(model.firehoseFromMsk.billedGb).toBeCloseTo(dataGb, 9);
    expect(model.firehoseFromMsk.dollars).toBeCloseTo(dataGb * (0.055 + 0.018 + 0.02), 9);
    expect(model.ratioToMsk).toBeCloseTo(model.consumer.dollars / model.firehoseFromMsk.dollars, 12);
    // A 6 KB event is billed as 10 KB.
    expect(costPerMillionEvents({ ...inputs, eventBytes: 6 * 1024 }).firehose.billedGb).toBeCloseTo((1e6 * 10 * 1024) / 2 ** 30, 9);
  });

  it('bills every Athena query at least 10 MB', () => {
    const columns = [['a'], ['a', 'b'], []];
    const perEvent = { a: 2, b: 3 };
    // 1M events: 2 MB, 5 MB and nothing scanned — each billed 10 MiB.
    expect(athenaRefreshBytes(columns, perEvent, 1e6)).toBe(3 * PRICES.athenaMinimumBytesPerQuery);
    // 10M events: 20 MB and 50 MB scanned, the empty one 10 MiB.
    expect(athenaRefreshBytes(columns, perEvent, 1e7)).toBe(2e7 + 5e7 + PRICES.athenaMinimumBytesPerQuery);
    expect(athenaDollars(2 ** 40)).toBe(5);
  });

  it.each([
    ['unaligned ranges (every URL new): every 5 s refresh', 5, 0, 30, 720],
    ['a 30 s step cached 30 s, refreshed every 10 s: once a step', 10, 30, 30, 120],
    ['a refresh slower than the step: every refresh', 60, 30, 30, 60],
    ['a step longer than the cache: every time the answer expires', 10, 60, 30, 120],
  ])('counts the refreshes that reach Athena: %s', (_, refresh, step, cache, perHour) => {
    expect(athenaRefreshesPerHour(refresh, step, cache)).toBe(perHour);
  });

  it('prices collected events per tracker request: CloudFront and Lambda per request, Kinesis per event', () => {
    const single = collectorCostPerMillionEvents(1, 0.05, 512);
    expect(single.cloudFront).toBeCloseTo(1.0, 6);
    expect(single.lambda).toBeCloseTo(0.2 + 1e6 * 0.05 * 0.5 * 0.0000133334, 6);
    expect(single.kinesis).toBe(0.014);
    const batched = collectorCostPerMillionEvents(10, 0.05, 512);
    expect(batched.cloudFront).toBeCloseTo(0.1, 6);
    expect(batched.total).toBeLessThan(single.total / 5);
    expect(() => collectorCostPerMillionEvents(0, 0.05, 512)).toThrow(/must be positive/);
  });

  it('refuses a refresh interval of zero', () => {
    expect(() => athenaRefreshesPerHour(0, 30, 30)).toThrow('refreshSeconds must be above 0, got 0');
  });

  it('prices each part of a refresh at its own column sizes: raw with the window, compacted and folded without, rollups per event, at least 10 MB a query', () => {
    const query = { raw: ['event_id', 'session_id'], compacted: ['session_id'], rollupBytesPerEvent: 0.5 };
    const sizes = { raw: { event_id: 20, session_id: 8 }, compacted: { session_id: 4 }, folded: { session_id: 6 } };
    const events = { raw: 1e6, compacted: 2e6, rolledUp: 4e6, folded: 3e6 };
    expect(athenaMixedRefreshBytes([query], sizes, events)).toBe(28e6 + 8e6 + 18e6 + 2e6);
    // Folded parts without sizes of their own are priced as compacted files; none, nothing.
    expect(athenaMixedRefreshBytes([query], { raw: sizes.raw, compacted: sizes.compacted }, events)).toBe(28e6 + 8e6 + 12e6 + 2e6);
    expect(athenaMixedRefreshBytes([query], sizes, { raw: 0, compacted: 1_000 })).toBe(PRICES.athenaMinimumBytesPerQuery);
    // Each Parquet file opened adds its footer's read, 48 KiB (Trino's, measured).
    expect(athenaMixedRefreshBytes([{ ...query, filesOpened: 100 }], sizes, events)).toBe(28e6 + 8e6 + 18e6 + 2e6 + 100 * 49_152);
  });
});
