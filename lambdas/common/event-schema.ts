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
  SCHEMA_VERSIONS,
  TRAFFIC_SOURCES,
} from './event-enums.ts';

/** A string enum, published as `{"type":"string","enum":[...]}` so errors list the allowed values. */
const oneOf = <T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

const id = (description: string) => Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description });

/** `T | null`, published as `"type": ["string", "null"]` rather than an anyOf, for clearer errors. */
const nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({
    ...schema,
    type: [schema.type as string, 'null'],
    // An enum is checked against null too, so it must list it.
    ...(Array.isArray(schema.enum) && { enum: [...(schema.enum as unknown[]), null] }),
  });

/** `fields` present and not null on the events `when` matches. */
const requireWhen = (when: Record<string, unknown>, fields: readonly string[]) => ({
  if: { properties: when, required: Object.keys(when) },
  then: {
    required: [...fields],
    properties: Object.fromEntries(fields.map((f) => [f, { not: { type: 'null' } }])),
  },
});
const requireFor = (eventTypes: readonly string[], fields: readonly string[]) => requireWhen({ event_type: { enum: [...eventTypes] } }, fields);

/**
 * What a tracker on a real site cannot know (schema v2 lets these be null or absent).
 * Version 1 events always carry them, and still must.
 */
const KNOWN_IN_V1 = ['user_age', 'user_gender', 'user_country', 'device_type', 'os', 'browser'] as const;
const PRODUCT_DETAILS_IN_V1 = ['product_category', 'product_brand'] as const;

export const ClickstreamEventSchema = Type.Object(
  {
    schema_version: Type.Unsafe<(typeof SCHEMA_VERSIONS)[number]>({
      type: 'integer',
      enum: [...SCHEMA_VERSIONS],
      description: `Version of this schema the event follows; producers write ${SCHEMA_VERSION}.`,
    }),
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
    product_category: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 64, description: 'Null when the site does not say (v2).' }))),
    product_brand: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 64, description: 'Null when the site does not say (v2).' }))),
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
    user_age: Type.Optional(nullable(Type.Integer({ minimum: 13, maximum: 120, description: 'Self-declared age; null when unknown (v2).' }))),
    user_gender: Type.Optional(nullable(oneOf(GENDERS, 'Self-declared gender; null when unknown (v2).'))),
    user_country: Type.Optional(
      nullable(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code; null when unknown (v2).' })),
    ),
    traffic_source: oneOf(TRAFFIC_SOURCES, 'Channel that brought the session.'),
    campaign: nullable(Type.String({ minLength: 1, maxLength: 128, description: 'Marketing campaign, null when none.' })),
    device_type: Type.Optional(nullable(oneOf(DEVICE_TYPES, 'Device class; bot for crawlers (v2); null when unknown (v2).'))),
    os: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 32, description: 'Null when unknown (v2).' }))),
    browser: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 32, description: 'Null when unknown (v2).' }))),
  },
  {
    $id: `https://schemas.clickstream.local/clickstream-event.v${SCHEMA_VERSION}.schema.json`,
    title: 'ClickstreamEvent',
    description: 'One shopper interaction on the e-commerce site.',
    additionalProperties: false,
    allOf: [
      requireFor(PRODUCT_EVENT_TYPES, ['product_id', 'product_price']),
      requireFor(QUANTITY_EVENT_TYPES, ['quantity']),
      requireFor(['purchase'], ['order_id', 'revenue']),
      requireWhen({ schema_version: { const: 1 } }, KNOWN_IN_V1),
      requireWhen({ schema_version: { const: 1 }, event_type: { enum: [...PRODUCT_EVENT_TYPES] } }, PRODUCT_DETAILS_IN_V1),
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
