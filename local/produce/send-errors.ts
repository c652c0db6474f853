/**
 * Which producer errors are worth retrying. A broker that is down, restarting or
 * electing a leader fails a send with network errors, timeouts and stale-metadata
 * errors: all pass once it is back, so the producer keeps the batch and tries again.
 * A batch the broker refuses for what it is (too large, not authorised, a bad
 * option) fails the same way every time: retrying would hang, so it is reported.
 */

/** Client error codes and Kafka protocol error ids that no retry can fix. */
const PERMANENT = new Set([
  'PLT_KFK_AUTHENTICATION',
  'PLT_KFK_USER',
  'PLT_KFK_UNSUPPORTED',
  'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
  'PLT_KFK_UNSUPPORTED_FORMAT',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUIRED_ACKS',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'UNSUPPORTED_VERSION',
]);

interface ErrorTree {
  readonly code?: unknown;
  readonly apiId?: unknown;
  readonly errors?: readonly unknown[];
}

/** True if the error, or any error it aggregates, is one that retrying cannot fix. */
export function isPermanentSendError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const e = error as ErrorTree;
  if (PERMANENT.has(String(e.apiId)) || PERMANENT.has(String(e.code))) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => isPermanentSendError(inner, depth + 1));
}
