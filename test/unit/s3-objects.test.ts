/** The one test for what changed in the lake, shared by the mirror and the inventory. */
import { describe, expect, it } from 'vitest';
import { objectChanges, type ListedObject } from '../../local/lake/s3-objects.ts';

const listed = (entries: Record<string, string>): ListedObject[] => Object.entries(entries).map(([key, etag]) => ({ key, etag, size: 1 }));

describe('objectChanges', () => {
  it('names keys added, changed (another ETag) and removed, and nothing else', () => {
    const held = new Map([
      ['a', '"1"'],
      ['b', '"1"'],
      ['c', '"1"'],
    ]);
    expect(objectChanges(held, listed({ a: '"1"', b: '"2"', d: '"1"' }))).toEqual({ added: ['d'], changed: ['b'], removed: ['c'] });
  });

  it('is empty when the listing matches what is held, and everything is new to an empty reader', () => {
    expect(objectChanges(new Map([['a', '"1"']]), listed({ a: '"1"' }))).toEqual({ added: [], changed: [], removed: [] });
    expect(objectChanges(new Map(), listed({ a: '"1"', b: '"1"' }))).toEqual({ added: ['a', 'b'], changed: [], removed: [] });
  });
});
