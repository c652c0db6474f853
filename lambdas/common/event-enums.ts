/**
 * The event's enums and limits, as plain constants with no imports.
 *
 * The TypeBox schema (event-schema.ts) builds its enums and bounds from these, so
 * they are still defined once; code that only needs a value (the query API checking
 * `device=`, the simulator making an oversized record) imports it from here and its
 * bundle stays free of TypeBox and Ajv. test/unit/lambda-bundles.test.ts checks that.
 * Keep this file dependency-free.
 */

/**
 * The version producers write. v2 lets what a real site's tracker cannot know be null
 * (demographics, country, device, product category and brand) and adds the `bot` device;
 * v1 events, which always carry them, stay valid in the same lake and table.
 */
export const SCHEMA_VERSION = 2;
export const SCHEMA_VERSIONS = [1, 2] as const;

export const EVENT_TYPES = [
  'page_view',
  'product_view',
  'add_to_cart',
  'remove_from_cart',
  'checkout',
  'purchase',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const TRAFFIC_SOURCES = ['direct', 'organic_search', 'paid_search', 'social', 'email', 'referral'] as const;
export type TrafficSource = (typeof TRAFFIC_SOURCES)[number];

/** The devices people shop on; the simulator draws from these. */
export const SHOPPER_DEVICE_TYPES = ['desktop', 'mobile', 'tablet'] as const;
export type ShopperDeviceType = (typeof SHOPPER_DEVICE_TYPES)[number];
/** `bot`: a crawler or other automated client (schema v2), left out of the dashboard's figures by default. */
export const DEVICE_TYPES = [...SHOPPER_DEVICE_TYPES, 'bot'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];
export const BOT_DEVICE: DeviceType = 'bot';

export const GENDERS = ['female', 'male', 'non_binary', 'undisclosed'] as const;
export type Gender = (typeof GENDERS)[number];

/** Events that must name a product (and, except for views, a quantity). */
export const PRODUCT_EVENT_TYPES = ['product_view', 'add_to_cart', 'remove_from_cart', 'purchase'] as const;
export const QUANTITY_EVENT_TYPES = ['add_to_cart', 'remove_from_cart', 'purchase'] as const;

/** 2000-01-01T00:00:00Z: anything older is a unit mistake (seconds instead of ms). */
export const MIN_EVENT_TIME_MS = 946_684_800_000;

/** Larger records are rejected before parsing; real events are well under 2 KiB. */
export const MAX_EVENT_BYTES = 32 * 1024;

/** Clocks drift; an event further ahead of the receiver than this is a bug, not skew. */
export const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000;

/**
 * Why the consumer rejected (quarantined) a record: a stable, short name for counting;
 * the reason text beside it has the details.
 */
export const REJECTION_CODES = ['too_large', 'invalid_utf8', 'invalid_json', 'invalid_event', 'future_event_time', 'no_value'] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];
