/**
 * Runtime validation of clickstream events against the one schema definition.
 *
 * Ajv compiles the JSON Schema (including its per-event-type `if/then` rules)
 * into a plain function once, at module load, so validating a record costs a
 * few hundred nanoseconds in the hot path of the consumer.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { ClickstreamEventSchema, type ClickstreamEvent } from './event-schema.ts';

const ajv = new Ajv2020({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
const compiled = ajv.compile<ClickstreamEvent>(ClickstreamEventSchema);

export type ValidationResult = { ok: true; event: ClickstreamEvent } | { ok: false; reason: string };

/** Checks a decoded JSON value; the reason names the field and what is wrong with it. */
export function validateEvent(value: unknown): ValidationResult {
  if (compiled(value)) return { ok: true, event: value };
  return { ok: false, reason: describeError(compiled.errors?.[0]) };
}

function describeError(error: ErrorObject | undefined): string {
  if (!error) return 'event does not match the schema';
  const field = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : 'event';
  if (error.keyword === 'required') {
    return `${field === 'event' ? '' : `${field}.`}${String(error.params.missingProperty)} is required`.replace(/^event\./, '');
  }
  if (error.keyword === 'additionalProperties') {
    return `unknown field ${String(error.params.additionalProperty)}`;
  }
  if (error.keyword === 'not') {
    // Only the per-event-type rules use `not`: a field that event type needs is null.
    return `${field} must not be null for this event_type`;
  }
  const allowed = error.params.allowedValues as unknown[] | undefined;
  return `${field} ${error.message ?? 'is invalid'}${allowed ? ` (${allowed.join(', ')})` : ''}`;
}
