/** Bounded exponential backoff: base, 2 x base, 4 x base, ... never more than cap. Shared by every retry loop of the runtime. */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
}
