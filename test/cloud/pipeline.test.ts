/**
 * Events through the deployed stack: the scheduled simulator into the stream,
 * the consumer (run by LocalStack's event source mapping) into Parquet and
 * quarantine, and a redelivered batch that adds no row. Every check reads
 * LocalStack's APIs or the downloaded Parquet (DuckDB), never the pipeline's code.
 * The steps depend on each other, so they run in order in one file.
 */
import { randomUUID } from 'node:crypto';
import { DisableRuleCommand } from '@aws-sdk/client-eventbridge';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { cloud, events, getText, kinesis, lambda, lakeBucket, listKeys, physicalId, queryParquet, readStream, streamArn, streamName, waitFor, type StreamRecord } from './aws.ts';

const decoder = new TextDecoder();
const json = (record: StreamRecord) => JSON.parse(decoder.decode(record.record.Data)) as Record<string, unknown>;
const sequence = (record: StreamRecord) => BigInt(record.record.SequenceNumber!);

async function invoke(functionName: string, payload: unknown): Promise<unknown> {
  const result = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
  const body = decoder.decode(result.Payload);
  if (result.FunctionError) throw new Error(`${functionName} failed: ${body}`);
  return JSON.parse(body) as unknown;
}

/** A valid clickstream event written out by hand (the README's example), at a given time. */
function shopperEvent(eventTimeMs: number): Record<string, unknown> {
  return {
    schema_version: 1,
    event_id: randomUUID(),
    event_type: 'purchase',
    event_time: eventTimeMs,
    user_id: 'u_0043909',
    session_id: 's_c2f4917e1e220adc',
    page_url: 'https://shop.example.com/checkout/complete',
    referrer: 'https://shop.example.com/',
    user_age: 18,
    user_gender: 'male',
    user_country: 'PL',
    traffic_source: 'organic_search',
    campaign: null,
    device_type: 'desktop',
    os: 'Windows',
    browser: 'Firefox',
    product_id: 'p_01620',
    product_category: 'beauty',
    product_brand: 'Lumen',
    product_price: 13.51,
    quantity: 1,
    order_id: `o_${randomUUID().slice(0, 16)}`,
    revenue: 13.51,
  };
}

describe('the deployed pipeline (cloud)', () => {
  const started = Date.now();

  it('runs the simulator on its schedule, and the simulator produces into the stream', async () => {
    // A scheduled run simulates the minute before it: a record from the last half hour can only come from the rule.
    const recent = await waitFor('a record from a scheduled simulator run in the stream', async () => {
      const records = await readStream();
      return records.find((r) => Number(json(r).event_time) > started - 30 * 60_000);
    });
    expect(json(recent)).toMatchObject({ schema_version: 2 });
  });

  const minute = { time: '2025-06-01T12:01:00Z', start: Date.parse('2025-06-01T12:00:00Z') };
  let sent = 0;

  it('sends one minute of events when invoked through the Lambda API, keyed by session', async () => {
    // GIVEN the deployed simulator and a scheduled event for a minute nothing else simulates
    const simulator = await physicalId('AWS::Lambda::Function', 'SimulatorHandlerFunction');

    // WHEN Lambda invokes it
    const result = (await invoke(simulator, { 'detail-type': 'Scheduled Event', source: 'aws.events', time: minute.time, detail: {} })) as { sent: number; minuteStart: string };

    // THEN it reports the minute before, and the stream holds exactly that many events from it
    expect(result.minuteStart).toBe('2025-06-01T12:00:00.000Z');
    expect(result.sent).toBeGreaterThan(0);
    sent = result.sent;
    const inMinute = (await readStream()).filter((r) => {
      const time = Number(json(r).event_time);
      return time >= minute.start && time < minute.start + 60_000;
    });
    expect(inMinute).toHaveLength(sent);
    for (const record of inMinute) expect(record.record.PartitionKey).toBe(json(record).session_id);
  });

  it('writes that minute to the lake as Parquet that DuckDB reads, one row per distinct event', async () => {
    // That minute's hour closed long ago: its rows go to late files (one per batch and shard).
    const prefix = 'late/';
    const rows = await waitFor(`all ${sent} events of the minute in s3://${lakeBucket}/${prefix}`, async () => {
      const keys = await listKeys(prefix);
      if (keys.length === 0) return undefined;
      const [counts] = await queryParquet(
        keys,
        "SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_events, min(source_topic) AS topic, max(source_topic) AS last_topic FROM events WHERE year = '2025' AND month = '06' AND day = '01' AND hour = '12'",
      );
      return Number(counts!.events) >= sent ? counts : undefined;
    });
    expect(rows).toEqual({ events: String(sent), distinct_events: String(sent), topic: streamName, last_topic: streamName });
  });

  /** The put events' rows: their hour, 2025-03-04 05:00, as each row's event time places it. */
  const HOUR_0305 = "SELECT event_id, source_topic, source_partition, source_offset, event_type, revenue, year, month, day, hour FROM events WHERE year = '2025' AND month = '03' AND day = '04' AND hour = '05'";

  // From here on the stream gets only what the tests put into it.
  const ours = { valid: [] as Record<string, unknown>[], sequences: [] as string[], bad: '{"event_id": "not closed' };

  it('with the schedule off and the consumer caught up, lands put records as Parquet and quarantines a bad one with its reason and coordinates', async () => {
    // GIVEN no more scheduled runs, and a quiet stream
    await events.send(new DisableRuleCommand({ Name: await physicalId('AWS::Events::Rule', 'SimulatorEveryMinute') }));
    let last = '';
    await waitFor('the stream to stop growing once the schedule is off', async () => {
      await new Promise((r) => setTimeout(r, 10_000));
      const records = await readStream();
      const tip = records.at(-1)?.record.SequenceNumber ?? '';
      const quiet = tip === last;
      last = tip;
      return quiet ? true : undefined;
    });

    // WHEN five events (one sent twice) and one record that is not JSON go into the stream in one request
    const hour = Date.parse('2025-03-04T05:00:00Z');
    ours.valid = Array.from({ length: 5 }, (_, i) => shopperEvent(hour + 60_000 * (i + 1)));
    const payloads = [...ours.valid, ours.valid[0]].map((e) => JSON.stringify(e)).concat(ours.bad);
    const put = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: payloads.map((p, i) => ({ Data: Buffer.from(p), PartitionKey: `test-${i}` })) }));
    expect(put.FailedRecordCount ?? 0).toBe(0);
    ours.sequences = put.Records!.map((r) => r.SequenceNumber!);
    const shardId = put.Records![0]!.ShardId!;

    // THEN the lake holds each event once, with its source coordinates, in a late file (the hour closed long ago)
    const prefix = 'late/';
    const rows = await waitFor(`the put events in s3://${lakeBucket}/${prefix}`, async () => {
      const keys = await listKeys(prefix);
      const found = keys.length > 0 ? await queryParquet(keys, `${HOUR_0305} ORDER BY event_time`) : [];
      return found.length > 0 ? found : undefined;
    });
    expect(rows).toEqual(
      ours.valid.map((e, i) => ({
        event_id: e.event_id,
        source_topic: streamName,
        source_partition: Number(/^shardId-(\d+)$/.exec(shardId)![1]),
        source_offset: ours.sequences[i],
        event_type: 'purchase',
        revenue: 13.51,
        year: '2025',
        month: '03',
        day: '04',
        hour: '05',
      })),
    );

    // AND the bad record is in quarantine, once, with why and where it came from
    const badSequence = ours.sequences.at(-1)!;
    const lines = await waitFor('the bad record in quarantine/', async () => {
      const found: Record<string, unknown>[] = [];
      for (const key of await listKeys('quarantine/')) {
        for (const line of (await getText(key)).split('\n').filter((l) => l !== '')) {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed.source_offset === badSequence) found.push(parsed);
        }
      }
      return found.length > 0 ? found : undefined;
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ code: 'invalid_json', source_topic: streamName, source_partition: 0, source_offset: badSequence, raw: ours.bad });
    expect(String(lines[0]!.reason)).toMatch(/not valid JSON/);
  });

  it('adds no row when the consumer gets the same batch again (same sequence numbers: same objects, same rows)', async () => {
    // GIVEN the batch the mapping delivered (the consumer's write log names its range), the last one written
    const state = JSON.parse(await getText(`_consumer_state/${streamName}/p0.json`)) as { batches: { first: string; last: string }[] };
    const first = BigInt(ours.sequences[0]!);
    const batch = state.batches.find((b) => BigInt(b.first) <= first && first <= BigInt(b.last));
    expect(batch, 'the write log has the batch holding the put records').toBeDefined();
    expect(state.batches.at(-1), 'no batch was written after it (a redelivery starts at the oldest uncommitted record)').toEqual(batch);
    const records = (await readStream()).filter((r) => sequence(r) >= BigInt(batch!.first) && sequence(r) <= BigInt(batch!.last));
    const event = {
      Records: records.map((r) => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.record.PartitionKey,
          sequenceNumber: r.record.SequenceNumber,
          data: Buffer.from(r.record.Data!).toString('base64'),
          approximateArrivalTimestamp: r.record.ApproximateArrivalTimestamp!.getTime() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${r.shardId}:${r.record.SequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/redelivery-test',
        awsRegion: cloud.region,
        eventSourceARN: streamArn,
      })),
    };
    const keysBefore = [...(await listKeys('events/')), ...(await listKeys('quarantine/'))];
    const lateBefore = await listKeys('late/');
    const [before] = await queryParquet(lateBefore, "SELECT count(*) AS events FROM events WHERE year = '2025' AND month = '03' AND day = '04' AND hour = '05'");

    // WHEN the deployed consumer is invoked with it
    const consumer = await physicalId('AWS::Lambda::Function', 'ConsumerHandlerFunction');
    const result = (await invoke(consumer, event)) as { records: number; objectsWritten: number };

    // THEN it wrote the batch again, and the lake has the same objects and the hour the same rows
    expect(result.records).toBe(event.Records.length);
    expect(result.objectsWritten).toBeGreaterThan(0);
    expect([...(await listKeys('events/')), ...(await listKeys('quarantine/'))]).toEqual(keysBefore);
    // A late file is named by its attempt's ingest time: the redelivery's file replaces the first one, never adds to it.
    const lateAfter = await listKeys('late/');
    expect(lateAfter).toHaveLength(lateBefore.length);
    const [after] = await queryParquet(lateAfter, "SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_events FROM events WHERE year = '2025' AND month = '03' AND day = '04' AND hour = '05'");
    expect(before).toEqual({ events: '5' });
    expect(after).toEqual({ events: '5', distinct_events: '5' });
  });
});
