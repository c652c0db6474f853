/** A binary min-heap's steps, for the simulator's sessions and the compactor's and fold's merges. */

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

/** Puts the elements of `heap` in heap order, in place. */
export function heapify<T>(heap: T[], less: (a: T, b: T) => boolean): void {
  for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) siftDown(heap, i, less);
}

/** Removes the least element (the first): the last takes its place and sinks. */
export function popMin<T>(heap: T[], less: (a: T, b: T) => boolean): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  siftDown(heap, 0, less);
}
