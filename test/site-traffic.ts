/**
 * The simulator's stream made to look like a lake that has lived through schema v2: events of
 * a real site, whose tracker could not know everything, and older v1 events in files written by
 * the v1 consumer. The simulator fills every field; tests that check how the lake, the queries,
 * the rollups and the dashboard treat unknown values and bots rewrite its records here.
 *
 * Every choice is a hash of the session or event id, so a re-sent copy of an event (same id) is
 * rewritten exactly as its original, and the same records always give the same lake.
 */
import { createHash } from 'node:crypto';
import v1Schema from '../schema/clickstream-event.v1.schema.json' with { type: 'json' };
import type { ClickstreamEvent } from '../lambdas/common/event-schema.ts';
import { eventColumnsOf, LINEAGE_COLUMNS } from '../lambdas/common/lake-columns.ts';
import { encodeParquet, parquetEncoderFor } from '../lambdas/consumer/parquet-encoder.ts';
import type { ParquetEncoder } from '../lambdas/consumer/write-batch.ts';
import type { SimulatedRecord } from '../lambdas/simulator/simulator.ts';

/** A number in [0, 1) fixed by the id and what it decides. */
function share(id: string, what: string): number {
  return createHash('sha256').update(`${what}:${id}`).digest().readUInt32BE(0) / 2 ** 32;
}

type Mutable = { -readonly [K in keyof ClickstreamEvent]?: ClickstreamEvent[K] | null };

/** Leaves a field out or sets it to null (both mean unknown, and the schema accepts both). */
function forget(event: Mutable, field: keyof ClickstreamEvent): void {
  if (share(event.event_id!, `absent ${field}`) < 0.5) delete event[field];
  else event[field] = null;
}

export interface SiteTrafficOptions {
  /** Events in this time range (from inclusive, to exclusive) are v1 events, every field known. @default none */
  readonly v1Era?: readonly [fromMs: number, toMs: number];
}

/**
 * One record of the simulator as a real site would send it. Per session: a bot (about one in
 * twelve: device `bot`, no demographics, os and browser often unknown); otherwise the age and the
 * gender each unknown for about half the sessions (shops rarely know them) or known for only some
 * of a session's events (a shopper who signs in midway), the country unknown for about one in
 * six, the device (with os and browser) for about one in ten. Per product event, the category
 * unknown for about one in six, the brand for about one in five. Malformed records stay as they are.
 */
export function asSiteTraffic(record: SimulatedRecord, options: SiteTrafficOptions = {}): SimulatedRecord {
  if (!record.event) return record;
  const event: Mutable = { ...record.event };
  if (options.v1Era && event.event_time! >= options.v1Era[0] && event.event_time! < options.v1Era[1]) {
    event.schema_version = 1;
  } else {
    const session = event.session_id!;
    const id = event.event_id!;
    if (share(session, 'bot') < 0.08) {
      event.device_type = 'bot';
      for (const field of ['user_age', 'user_gender'] as const) forget(event, field);
      if (share(session, 'bot agent') < 0.5) for (const field of ['os', 'browser'] as const) forget(event, field);
    } else {
      const age = share(session, 'age');
      if (age < 0.45 || (age < 0.6 && share(id, 'age') < 0.5)) forget(event, 'user_age');
      const gender = share(session, 'gender');
      if (gender < 0.4 || (gender < 0.55 && share(id, 'gender') < 0.5)) forget(event, 'user_gender');
      if (share(session, 'device') < 0.1) for (const field of ['device_type', 'os', 'browser'] as const) forget(event, field);
    }
    if (share(session, 'country') < 0.16) forget(event, 'user_country');
    if (event.product_id) {
      if (share(id, 'category') < 0.16) forget(event, 'product_category');
      if (share(id, 'brand') < 0.2) forget(event, 'product_brand');
    }
  }
  const rewritten = event as ClickstreamEvent;
  return { ...record, event: rewritten, value: Buffer.from(JSON.stringify(rewritten)) };
}

/** The v1 consumer's encoder: the same columns, with the fields v1 always had as required columns. */
const encodeV1 = parquetEncoderFor([...eventColumnsOf(v1Schema), ...LINEAGE_COLUMNS]);

/**
 * The consumer's encoder for a lake of both versions: a file whose rows are all v1 events is
 * written as the v1 consumer wrote it (those columns required), any other as today's (nullable).
 */
export const encodeEitherVersion: ParquetEncoder = (rows) => (rows.every((row) => row.schema_version === 1) ? encodeV1(rows) : encodeParquet(rows));
