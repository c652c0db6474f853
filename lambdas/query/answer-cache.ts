/**
 * A small cache of query answers that holds under load:
 * - an answer lives `ttlMs` from when it was computed, not from when it was asked
 *   for, so a query slower than the TTL is still reused;
 * - identical requests that arrive while the answer is being computed wait for
 *   that one computation instead of each starting their own;
 * - a failure is handed to everyone waiting for it and then forgotten, so the next
 *   request tries again;
 * - at most `maxEntries` answers are kept (the least recently used go first), so
 *   many distinct filter combinations cannot grow it without bound.
 */

export interface AnswerCacheOptions {
  /** How long an answer is reused after it was computed; 0 turns the cache off (no reuse, no merging). */
  readonly ttlMs: number;
  /** @default 500 */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class AnswerCache<T> {
  private readonly answers = new Map<string, { readonly value: T; readonly expires: number }>();
  private readonly computing = new Map<string, Promise<T>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: AnswerCacheOptions) {
    this.maxEntries = options.maxEntries ?? 500;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(options.ttlMs) || options.ttlMs < 0) throw new Error(`the answer cache's ttlMs must be a whole number of milliseconds, at least 0, got ${options.ttlMs}`);
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new Error(`the answer cache's maxEntries must be a whole number, at least 1, got ${this.maxEntries}`);
  }

  /** Answers kept now (expired ones included until they are evicted). */
  get size(): number {
    return this.answers.size;
  }

  /** The answer for `key`: a fresh stored one, the one being computed, or a new computation, kept `ttlMs` (the cache's by default). */
  get(key: string, compute: () => Promise<T>, ttlMs = this.options.ttlMs): Promise<T> {
    if (ttlMs === 0) return compute();
    const stored = this.answers.get(key);
    if (stored && stored.expires > this.now()) {
      // Re-inserted so that Map order is least recently used first.
      this.answers.delete(key);
      this.answers.set(key, stored);
      return Promise.resolve(stored.value);
    }
    const pending = this.computing.get(key);
    if (pending) return pending;
    // compute() starts now, and even if it throws at once the failure settles after the entry is
    // registered below, so it is forgotten like any other.
    const started = new Promise<T>((resolve) => resolve(compute()))
      .then((value) => {
        this.store(key, value, ttlMs);
        return value;
      })
      .finally(() => this.computing.delete(key));
    this.computing.set(key, started);
    return started;
  }

  private store(key: string, value: T, ttlMs: number): void {
    const now = this.now();
    this.answers.delete(key);
    this.answers.set(key, { value, expires: now + ttlMs });
    if (this.answers.size <= this.maxEntries) return;
    // Over the bound: the expired go first (answers live for different times), then the least recently used.
    for (const [k, v] of this.answers) if (v.expires <= now) this.answers.delete(k);
    for (const k of this.answers.keys()) {
      if (this.answers.size <= this.maxEntries) break;
      this.answers.delete(k);
    }
  }
}
