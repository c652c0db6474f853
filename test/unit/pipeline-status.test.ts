import { describe, expect, it } from 'vitest';
import { formatStatusLine, lakeStatus, topicStatus, type PipelineStatus } from '../../local/status/pipeline-status.ts';

const INVENTORY = {
  eventObjects: 3,
  eventBytes: 1_000,
  eventRows: 12_345,
  newestEventTimeMs: 1_000_000,
  newestIngestTimeMs: 1_001_000,
  quarantineObjects: 1,
  quarantinedRecords: 7,
};

describe('pipeline status', () => {
  it('sums end offsets, committed offsets and lag over the partitions', () => {
    const topic = topicStatus('t', [
      { partition: 0, endOffset: 10, committedOffset: 4, lag: 6 },
      { partition: 1, endOffset: 5, committedOffset: 5, lag: 0 },
    ]);
    expect(topic).toMatchObject({ name: 't', endOffset: 15, committedOffset: 9, lag: 6 });
  });

  it('measures freshness from the newest event to now, and has none for an empty lake', () => {
    expect(lakeStatus('b', INVENTORY, 1_004_500).freshnessSeconds).toBe(4.5);
    // An event stamped slightly ahead of this clock is fresh, not negative.
    expect(lakeStatus('b', INVENTORY, 999_000).freshnessSeconds).toBe(0);
    expect(lakeStatus('b', { ...INVENTORY, newestEventTimeMs: null }, 1_004_500).freshnessSeconds).toBeNull();
  });

  it('draws the run command status line from whatever could be read', () => {
    const status: PipelineStatus = {
      generatedAt: '',
      services: [],
      topic: topicStatus('t', [{ partition: 0, endOffset: 2_500, committedOffset: 500, lag: 2_000 }]),
      lake: lakeStatus('b', INVENTORY, 1_002_000),
      problems: [],
    };
    expect(formatStatusLine(1_234.4, status)).toBe('produced 1,234/s  lag 2,000  lake 12,345 events  freshness 2.0s  quarantined 7');
    expect(formatStatusLine(10, { ...status, topic: null, lake: null })).toBe('produced 10/s');
    expect(formatStatusLine(10, undefined)).toBe('produced 10/s');
  });

  it('says on the run command status line what is down and how many events wait for the broker', () => {
    const up = { running: true, healthy: true, endpoint: '' };
    const status: PipelineStatus = {
      generatedAt: '',
      services: [{ name: 'kafka', ...up, running: false, healthy: false }, { name: 'minio', ...up }, { name: 'supervisor', ...up }],
      topic: null,
      lake: lakeStatus('b', INVENTORY, 1_002_000),
      problems: [],
    };
    expect(formatStatusLine(0, status, 1_000)).toBe('produced 0/s  kafka down (restarting)  1,000 events held for the broker  lake 12,345 events  freshness 2.0s  quarantined 7');
    // A given broker, or no supervisor: nothing restarts it, and the line does not pretend otherwise.
    const given = { ...status, services: [{ name: 'kafka', ...up, healthy: false, external: true }, { name: 'supervisor', ...up }] };
    expect(formatStatusLine(0, given)).toBe('produced 0/s  kafka down  lake 12,345 events  freshness 2.0s  quarantined 7');
  });
});
