/**
 * The type of the generated event validator (event-validator.js beside this file,
 * written by lambdas/generate-code.ts; not committed). Ajv's standalone
 * output: a function that answers whether the value is an event and, when it is
 * not, leaves the first error on itself; and `quickCheck`, true only for a value
 * that validator accepts (lambdas/event-quick-check.ts).
 */
import type { ErrorObject } from 'ajv';
import type { ClickstreamEvent } from '../event-schema.ts';

export interface EventValidator {
  (value: unknown): value is ClickstreamEvent;
  errors?: ErrorObject[] | null;
}

export declare const validate: EventValidator;
/** True only for an event the schema accepts; false means "ask `validate`". */
export declare function quickCheck(value: unknown): value is ClickstreamEvent;
/** quickCheck's test of each pattern of the schema, by the pattern. */
export declare const quickPatterns: Readonly<Record<string, (value: string) => boolean>>;
export default validate;
