/**
 * Runtime validation of clickstream events against the one schema definition.
 *
 * The validator is Ajv's code for the published JSON Schema (including its
 * per-event-type `if/then` rules), generated at build time
 * (lambdas/generate-code.ts): nothing is compiled when a Lambda loads. Ajv's code
 * allocates for every record, valid or not (about 2.6 µs a record), so a valid event is
 * first offered to `quickCheck`, generated from the same schema, which only ever says
 * yes for an event Ajv accepts; anything else goes to Ajv, which decides and gives the
 * reason (lambdas/event-quick-check.ts).
 */
import type { ErrorObject } from 'ajv';
import type { ClickstreamEvent } from './event-schema.ts';
import { validate as compiled, quickCheck } from './generated/event-validator.js';

export type ValidationResult = { ok: true; event: ClickstreamEvent } | { ok: false; reason: string };

/** Checks a decoded JSON value; the reason names the field and what is wrong with it. */
export function validateEvent(value: unknown): ValidationResult {
  if (quickCheck(value) || compiled(value)) return { ok: true, event: value };
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
