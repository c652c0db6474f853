/**
 * `items.map(fn)` with at most `limit` calls running at once, results in input
 * order; the first failure rejects the whole and starts no further call (calls
 * already started still finish: in the query API each is a billed Athena query).
 * The dashboard route uses it so one request cannot start every query at once; the
 * lake mirror and inventory so a sync does not open a connection per object.
 */
export async function mapWithLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a whole number, at least 1, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
