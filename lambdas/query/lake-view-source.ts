/**
 * Where a reader over the raw files (Athena) learns the lake's compaction state:
 * the manifest, and a listing of late/ (late files the manifest does not name as
 * folded are read with the de-duplication window). Two requests per answer; both
 * are small. Reading open hours folded adds a listing of their records and one GET
 * for each hour not compacted (two or three).
 */
import { lakeView, MANIFEST_KEY, parseManifest, type LakeView } from '../common/compaction-manifest.ts';
import { partsReadable, readOpenHourRecords } from '../common/open-hour-record.ts';
import { LAKE_PREFIXES } from '../common/pipeline-names.ts';
import type { ObjectStore } from '../consumer/object-store.ts';

/**
 * How a reader reads the hours not compacted yet: `raw`, every raw file through the de-duplication
 * window, seconds behind the stream; `folded`, the parts the compactor folded them into
 * (docs/architecture.md, "Folding the open hour"), as far as the last fold (about a minute behind),
 * without the window, which is most of what Athena bills. An hour with no parts yet is read raw.
 */
export type OpenHoursRead = 'raw' | 'folded';

export function storeLakeView(store: Pick<ObjectStore, 'get' | 'list'>, openHours: OpenHoursRead = 'raw'): () => Promise<LakeView> {
  return async () => {
    // The manifest first: a late file folded after this read is still read from late/, de-duplicated;
    // an hour compacted after it is still read from its parts, which stay for the retention.
    const manifest = parseManifest((await store.get(MANIFEST_KEY))?.body);
    const late = await store.list(LAKE_PREFIXES.late);
    const folded = new Map<string, readonly string[]>();
    if (openHours === 'folded') {
      // An hour is read raw whose record is damaged, whose raw files include names no consumer writes, or on which the folds fail.
      for (const { hour, record } of await readOpenHourRecords(store, (hour) => !(hour in manifest.hours))) if (record && partsReadable(record)) folded.set(hour, record.parts.map((p) => p.key));
    }
    return lakeView(manifest, late.map((o) => o.key), folded);
  };
}

/** CLICKSTREAM_OPEN_HOURS: `raw` (the default) or `folded`; anything else is an error, not a default. */
export function openHoursReadFromEnv(env: Readonly<Record<string, string | undefined>>): OpenHoursRead {
  const value = env.CLICKSTREAM_OPEN_HOURS;
  if (value === undefined || value === '' || value === 'raw') return 'raw';
  if (value === 'folded') return 'folded';
  throw new Error(`CLICKSTREAM_OPEN_HOURS must be "raw" or "folded", got "${value.slice(0, 40)}"`);
}
