/**
 * The clickstream event, defined once.
 *
 * This TypeBox definition is the single source of truth: the TypeScript type
 * (`ClickstreamEvent`), the runtime validator (`validate-event.ts`), the
 * published JSON Schema (`schema/clickstream-event.v1.schema.json`, written by
 * `npm run schema` and checked in CI) and, later, the Parquet and Glue columns
 * are all derived from it. Its enums and limits live in event-enums.ts, which has no
 * dependencies, so a Lambda that needs only those does not bundle TypeBox.
 *
 * The record is flat on purpose: every field maps to one typed column in the
 * lake, which keeps Parquet, Glue and the SQL simple.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  DEVICE_TYPES,
  EVENT_TYPES,
  GENDERS,
  MIN_EVENT_TIME_MS,
  PRODUCT_EVENT_TYPES,
  QUANTITY_EVENT_TYPES,
  SCHEMA_VERSION,
  TRAFFIC_SOURCES,
} from './event-enums.ts';

/** A string enum, published as `{"type":"string","enum":[...]}` so errors list the allowed values. */
const oneOf = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

const id = (description: string) => Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description });

/** `T | null`, published as `"type": ["string", "null"]` rather than an anyOf, for clearer errors. */
const nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type as string, 'null'] });

const requireFor = (eventTypes: readonly string[], fields: string[]) => ({
  if: { properties: { event_type: { enum: [...eventTypes] } }, required: ['event_type'] },
  then: {
    required: fields,
    properties: Object.fromEntries(fields.map((f) => [f, { not: { type: 'null' } }])),
  },
});

export const ClickstreamEventSchema = Type.Object(
  {
    schema_version: Type.Literal(SCHEMA_VERSION, { description: 'Version of this schema the event follows.' }),
    event_id: Type.String({
      pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
      description: 'UUID, lower case. Unique per event; a re-sent event keeps its id.',
    }),
    event_type: oneOf(EVENT_TYPES, 'What the shopper did.'),
    event_time: Type.Integer({
      minimum: MIN_EVENT_TIME_MS,
      description: 'When it happened: milliseconds since the Unix epoch, UTC.',
    }),
    user_id: id('Stable id of the shopper.'),
    session_id: id('Id of the visit; also the Kafka message key, so a session stays in order.'),
    page_url: Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description: 'Page the event happened on.' }),
    referrer: nullable(Type.String({ maxLength: 2048, description: 'Referring URL, null when none.' })),
    product_id: Type.Optional(nullable(id('Product id.'))),
    product_category: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 64 }))),
    product_brand: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 64 }))),
    product_price: Type.Optional(
      nullable(Type.Number({ minimum: 0, maximum: 1_000_000, description: 'Unit price in the shop currency.' })),
    ),
    quantity: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
    order_id: Type.Optional(nullable(id('Order id, on purchase events.'))),
    revenue: Type.Optional(
      nullable(
        Type.Number({
          minimum: 0,
          maximum: 100_000_000,
          description: 'Revenue of this purchase line (price x quantity); an order may span several lines.',
        }),
      ),
    ),
    user_age: Type.Integer({ minimum: 13, maximum: 120 }),
    user_gender: oneOf(GENDERS, 'Self-declared gender.'),
    user_country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code.' }),
    traffic_source: oneOf(TRAFFIC_SOURCES, 'Channel that brought the session.'),
    campaign: nullable(Type.String({ minLength: 1, maxLength: 128, description: 'Marketing campaign, null when none.' })),
    device_type: oneOf(DEVICE_TYPES, 'Device class.'),
    os: Type.String({ minLength: 1, maxLength: 32 }),
    browser: Type.String({ minLength: 1, maxLength: 32 }),
  },
  {
    $id: `https://schemas.clickstream.local/clickstream-event.v${SCHEMA_VERSION}.schema.json`,
    title: 'ClickstreamEvent',
    description: 'One shopper interaction on the e-commerce site.',
    additionalProperties: false,
    allOf: [
      requireFor(PRODUCT_EVENT_TYPES, ['product_id', 'product_category', 'product_brand', 'product_price']),
      requireFor(QUANTITY_EVENT_TYPES, ['quantity']),
      requireFor(['purchase'], ['order_id', 'revenue']),
    ],
  },
);

export type ClickstreamEvent = Static<typeof ClickstreamEventSchema>;

/** The JSON Schema document as published: plain JSON, no TypeBox symbols. */
export function publishedJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(JSON.parse(JSON.stringify(ClickstreamEventSchema)) as Record<string, unknown>),
  };
}
