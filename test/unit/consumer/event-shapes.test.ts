import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKafkaEvent, kafkaSourceRecords, type KafkaEvent } from '../../../lambdas/consumer/kafka-event.ts';
import { isKinesisEvent, kinesisSourceRecords, type KinesisEvent } from '../../../lambdas/consumer/kinesis-event.ts';

const fixture = <T>(name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')) as T;

describe('Kafka event (MSK and self-managed)', () => {
  it.each(['msk-event.json', 'self-managed-kafka-event.json'])('recognises %s', (name) => {
    expect(isKafkaEvent(fixture(name))).toBe(true);
    expect(isKinesisEvent(fixture(name))).toBe(false);
  });

  it('flattens every topic-partition group, offsets as decimal strings, in delivery order', () => {
    const records = kafkaSourceRecords(fixture<KafkaEvent>('msk-event.json'));
    expect(records.map((r) => [r.topic, r.partition, r.offset])).toEqual([
      ['clickstream.events', 0, '100'],
      ['clickstream.events', 0, '101'],
      ['clickstream.events', 0, '102'],
      ['clickstream.events', 3, '7'],
      ['clickstream.events', 3, '8'],
      ['clickstream.events', 3, '9'],
    ]);
  });

  it('decodes base64 values whatever the key and headers (a null key, an absent key, headers as byte arrays)', () => {
    const records = kafkaSourceRecords(fixture<KafkaEvent>('msk-event.json'));
    const [withHeaders, nullKey, , absentKey] = records;
    for (const r of [withHeaders, nullKey, absentKey]) {
      expect((JSON.parse(r!.value!.toString('utf8')) as { schema_version: number }).schema_version).toBe(1);
    }
  });

  it('gives a record with a null value (a tombstone) a null payload rather than failing', () => {
    expect(kafkaSourceRecords(fixture<KafkaEvent>('msk-event.json'))[5]!.value).toBeNull();
  });

  it.each([
    [{ eventSource: 'aws:kafka', records: { 't-0': 'nope' } }, /group "t-0" is not a list of records/],
    [{ eventSource: 'aws:kafka', records: { 't-0': [{ topic: 't', offset: 1 }] } }, /has a record without topic, partition and offset/],
  ])('rejects a broken event shape with a sentence (%#)', (event, message) => {
    expect(() => kafkaSourceRecords(event as unknown as KafkaEvent)).toThrow(message);
  });
});

describe('Kinesis event', () => {
  it('recognises the shape and takes stream, shard number and the full sequence number', () => {
    const event = fixture<KinesisEvent>('kinesis-event.json');
    expect(isKinesisEvent(event)).toBe(true);
    expect(isKafkaEvent(event)).toBe(false);
    const records = kinesisSourceRecords(event);
    expect(records[0]).toMatchObject({ topic: 'clickstream-events', partition: 2, offset: '49590338271490256608559692538361571095921575989136588898' });
    expect(records.every((r) => r.value !== null)).toBe(true);
  });

  it('rejects a record without a shard id', () => {
    const event = fixture<KinesisEvent>('kinesis-event.json');
    const broken = { Records: [{ ...event.Records[0]!, eventID: 'garbage' }] };
    expect(() => kinesisSourceRecords(broken)).toThrow(/has no shard, stream or sequence number/);
  });

  it.each([null, 42, {}, { Records: [] }, { eventSource: 'aws:sqs' }])('does not take %j for either shape', (event) => {
    expect(isKafkaEvent(event)).toBe(false);
    expect(isKinesisEvent(event)).toBe(false);
  });
});
