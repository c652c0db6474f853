/**
 * Test helpers for Lambda's JSON log format: wrap a console.log argument the way
 * the Node.js runtime does, and read a `$.a.b` path out of the record. This is
 * only the dotted-path subset our metric filters use, not CloudWatch's filter syntax.
 */

/** What the Node.js runtime writes for `console.log(value)` with LoggingFormat.JSON (one argument). */
export function lambdaJsonRecord(value: unknown): Record<string, unknown> {
  // Round-trip through JSON, as CloudWatch stores text, so nothing survives that the log would not hold.
  return JSON.parse(JSON.stringify({ timestamp: '2026-01-01T00:00:00.000Z', level: 'INFO', requestId: '8f5c1e0a-0000-4000-8000-000000000000', message: value })) as Record<string, unknown>;
}

/** The value at a `$.a.b.c` path, or undefined when any step is missing or not an object. */
export function jsonPathValue(record: unknown, path: string): unknown {
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`only $.a.b paths are supported, got "${path}"`);
  let node: unknown = record;
  for (const step of path.slice(2).split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[step];
  }
  return node;
}

/** Splits a `{ $.path = "text" }` filter pattern into its path and text. */
export function parseEqualsPattern(pattern: string): { path: string; text: string } {
  const match = /^\{ (\$[.\w]+) = "([^"]*)" \}$/.exec(pattern);
  if (!match) throw new Error(`not a { $.path = "text" } pattern: ${pattern}`);
  return { path: match[1]!, text: match[2]! };
}
