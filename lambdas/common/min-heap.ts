/** A binary min-heap's one shared step, for the simulator's sessions and the compactor's and fold's merges. */

/** Restores the heap's order from `i` down, after the element at `i` grew (or was replaced). */
export function siftDown<T>(heap: T[], i: number, less: (a: T, b: T) => boolean): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
    if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m]!, heap[i]!];
    i = m;
  }
}
