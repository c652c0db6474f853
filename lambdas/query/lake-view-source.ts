/**
 * Where a reader over the raw files (Athena) learns the lake's compaction state:
 * the manifest, and a listing of late/ (late files the manifest does not name as
 * folded are read with the de-duplication window). Two requests per answer; both
 * are small.
 */
import { lakeView, MANIFEST_KEY, parseManifest, type LakeView } from '../common/compaction-manifest.ts';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import type { ObjectStore } from '../consumer/object-store.ts';

export function storeLakeView(store: Pick<ObjectStore, 'get' | 'list'>): () => Promise<LakeView> {
  return async () => {
    // The manifest first: a late file folded after this read is still read from late/, de-duplicated.
    const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
    const late = await store.list(LAKE_PREFIXES.late);
    return lakeView(manifest, late.map((o) => o.key));
  };
}
