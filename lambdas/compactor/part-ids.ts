/**
 * The event ids of one folded part, held between folds in 16 bytes each (fold-open-hours.ts): an
 * hour at 5,000 events/s has 18 million, which as JavaScript strings in a Map took about 90 bytes
 * each (1.6 GB, measured), beside a fold's rows in a 3,008 MB function. An event_id is a lower-case
 * UUID (the event schema's pattern), so it is four 32-bit words, sorted here; an id of another form
 * (none is valid) is kept as text beside them.
 */

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;
/** Where the hex digits of a UUID are: its 36 characters less the four dashes. */
const DIGITS = [...Array(36).keys()].filter((i) => i !== 8 && i !== 13 && i !== 18 && i !== 23);

/** The UUID's four words into `out` at `at`; false if `id` is not a lower-case UUID. */
function uuidWords(id: string, out: Uint32Array, at: number): boolean {
  if (id.length !== 36 || id[8] !== '-' || id[13] !== '-' || id[18] !== '-' || id[23] !== '-') return false;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let d = 0; d < 8; d++) {
      const code = id.charCodeAt(DIGITS[w * 8 + d]!);
      const value = code < 128 ? HEX[code]! : -1;
      if (value < 0) return false;
      word = word * 16 + value;
    }
    out[at + w] = word;
  }
  return true;
}

function compareAt(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let w = 0; w < 4; w++) {
    const d = a[i * 4 + w]! - b[j * 4 + w]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Ids as sorted words (and the ones that are not UUIDs, as text). */
interface SortedIds {
  readonly words: Uint32Array;
  readonly others: ReadonlySet<string>;
}

function sortedIds(ids: readonly string[]): SortedIds & { readonly order: Int32Array } {
  const raw = new Uint32Array(ids.length * 4);
  const others = new Set<string>();
  const uuids: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (uuidWords(ids[i]!, raw, i * 4)) uuids.push(i);
    else others.add(ids[i]!);
  }
  const order = Int32Array.from(uuids).sort((a, b) => compareAt(raw, a, raw, b));
  const words = new Uint32Array(order.length * 4);
  for (let k = 0; k < order.length; k++) words.set(raw.subarray(order[k]! * 4, order[k]! * 4 + 4), k * 4);
  return { words, others, order };
}

export class PartIds {
  private constructor(private readonly ids: SortedIds) {}

  static of(ids: readonly string[]): PartIds {
    const { words, others } = sortedIds(ids);
    return new PartIds({ words, others });
  }

  get size(): number {
    return this.ids.words.length / 4 + this.ids.others.size;
  }

  /**
   * For each of `ids`, the index of the first of `parts` that holds it, or -1: the ids sorted once,
   * then each part walked beside them (a merge, not a search per id).
   */
  static holders(ids: readonly string[], parts: readonly PartIds[]): Int32Array {
    const held = new Int32Array(ids.length).fill(-1);
    const wanted = sortedIds(ids);
    for (const [p, part] of parts.entries()) {
      const { words } = part.ids;
      let j = 0;
      for (let k = 0; k < wanted.order.length; k++) {
        const i = wanted.order[k]!;
        if (held[i] !== -1) continue;
        while (j < words.length / 4 && compareAt(words, j, wanted.words, k) < 0) j++;
        if (j < words.length / 4 && compareAt(words, j, wanted.words, k) === 0) held[i] = p;
      }
      if (part.ids.others.size > 0 && wanted.others.size > 0) ids.forEach((id, i) => held[i] === -1 && part.ids.others.has(id) && (held[i] = p));
    }
    return held;
  }
}
