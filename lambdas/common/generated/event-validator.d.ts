/**
 * The type of the generated event validator (event-validator.js beside this file,
 * written by lambdas/generate-code.ts; not committed). Ajv's standalone
 * output: a function that answers whether the value is an event and, when it is
 * not, leaves the first error on itself.
 */
import type { ErrorObject } from 'ajv';
import type { ClickstreamEvent } from '../event-schema.ts';

export interface EventValidator {
  (value: unknown): value is ClickstreamEvent;
  errors?: ErrorObject[] | null;
}

export declare const validate: EventValidator;
export default validate;
