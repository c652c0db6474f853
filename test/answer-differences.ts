/** Comparing two engines' answers: exact, except sums of doubles. */

/** Sums of doubles differ in the last bits with the order rows are added in; every other value must match exactly. */
const FLOATING_SUMS = new Set(['revenue', 'average_order_value']);

/** Where two answers (parsed JSON) differ, as `path: a != b` lines; empty when they agree. */
export function answerDifferences(a: unknown, b: unknown, path: string): string[] {
  const key = path.slice(path.lastIndexOf('.') + 1);
  if (typeof a === 'number' && typeof b === 'number' && FLOATING_SUMS.has(key)) {
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) ? [] : [`${path}: ${a} != ${b}`];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${a.length} rows != ${b.length} rows`];
    return a.flatMap((v, i) => answerDifferences(v, b[i], `${path}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => answerDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return Object.is(a, b) ? [] : [`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`];
}
