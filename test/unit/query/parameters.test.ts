import { describe, expect, it } from 'vitest';
import { MAX_RANGE_DAYS, parseParameters } from '../../../lambdas/query/parameters.ts';
import { partitionPredicate, querySql, QUERY_NAMES, timeBucket } from '../../../lambdas/query/named-queries.ts';
import { athenaDialect, duckdbDialect } from '../../../lambdas/query/dialect.ts';

const NOW = Date.UTC(2026, 10, 23, 12);

describe('parseParameters', () => {
  it('defaults to the last hour and takes ISO instants or epoch milliseconds', () => {
    expect(parseParameters({}, NOW)).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW });
    expect(parseParameters({ from: '2026-11-23T10:00:00Z', to: String(NOW), device: 'mobile', source: 'email', country: 'DE' }, NOW)).toEqual({
      fromMs: Date.UTC(2026, 10, 23, 10),
      toMs: NOW,
      device: 'mobile',
      source: 'email',
      country: 'DE',
    });
  });

  it.each([
    [{ from: '2026-11-23T11:00:00Z', to: '2026-11-23T10:00:00Z' }, 'from must be before to'],
    [{ from: '2026-01-01T00:00:00Z' }, `the time range is longer than ${MAX_RANGE_DAYS} days: narrow from/to`],
    [{ to: '2026-12-25T00:00:00Z' }, 'to is more than a day in the future'],
    [{ from: 'yesterday' }, 'from must be an ISO 8601 instant with a time zone (2026-11-23T10:00:00Z) or milliseconds since the epoch, got "yesterday"'],
    [{ from: '2026-11-23 10:00' }, /from must be an ISO 8601 instant/],
    [{ from: '2026-02-31T00:00Z' }, 'from must be an ISO 8601 instant with a time zone (2026-11-23T10:00:00Z) or milliseconds since the epoch, got "2026-02-31T00:00Z"'],
    [{ to: '2026-04-31T10:00:00+02:00' }, /to must be an ISO 8601 instant/],
    [{ from: '2026-13-01T00:00Z' }, /from must be an ISO 8601 instant/],
    [{ from: '1' }, /from must be an ISO 8601 instant/],
    [{ device: "mobile' OR '1'='1" }, `device must be one of desktop, mobile, tablet, bot, got "mobile' OR '1'='1"`],
    [{ source: 'email; DROP TABLE events' }, /^source must be one of direct, organic_search/],
    [{ country: "US' --" }, `country must be a two-letter ISO code in capitals, got "US' --"`],
    [{ country: 'us' }, /country must be a two-letter ISO code/],
    [{ limit: '5' }, 'unknown parameter "limit": use from, to, device, source or country'],
  ])('rejects %j', (raw, message) => {
    expect(() => parseParameters(raw, NOW)).toThrow(message);
  });
});

describe('named queries', () => {
  const params = { fromMs: Date.UTC(2026, 10, 22, 23, 30), toMs: Date.UTC(2026, 10, 23, 0, 30), device: 'mobile' as const };

  it('restricts every event query to the hour partitions the range touches', () => {
    expect(partitionPredicate(params.fromMs, params.toMs)).toBe(
      "((year = '2026' AND month = '11' AND day = '22' AND hour IN ('23')) OR (year = '2026' AND month = '11' AND day = '23' AND hour IN ('00')))",
    );
    for (const name of QUERY_NAMES) {
      for (const dialect of [duckdbDialect(), athenaDialect('clickstream', 'lake')]) {
        expect(querySql(name, dialect, params)).toContain("(year = '2026' AND month = '11' AND day = '22' AND hour IN ('23'))");
      }
    }
  });

  it('names whole days by their day and partial days by their hours', () => {
    // 2026-11-21 22:00 to 2026-11-23 01:00 exactly: two hours, a whole day, one hour.
    expect(partitionPredicate(Date.UTC(2026, 10, 21, 22), Date.UTC(2026, 10, 23, 1))).toBe(
      "((year = '2026' AND month = '11' AND day = '21' AND hour IN ('22', '23')) OR (year = '2026' AND month = '11' AND day = '22')" +
        " OR (year = '2026' AND month = '11' AND day = '23' AND hour IN ('00')))",
    );
    // A range ending mid-hour still includes that hour; one starting mid-hour includes its first hour.
    expect(partitionPredicate(Date.UTC(2026, 0, 5, 3, 59), Date.UTC(2026, 0, 5, 4, 1))).toBe("((year = '2026' AND month = '01' AND day = '05' AND hour IN ('03', '04')))");
  });

  it('removes copies of an event with a window only where the table is not de-duplicated already, one per event hour', () => {
    const window = "row_number() OVER (PARTITION BY event_id, date_trunc('hour', event_time) ORDER BY ingest_time, source_topic, source_partition, source_offset)";
    expect(querySql('kpis', athenaDialect('clickstream', 'lake'), params)).toContain(window);
    expect(querySql('kpis', duckdbDialect(), params)).not.toContain('row_number()');
    expect(querySql('kpis', duckdbDialect('raw', 'q', false), params)).toContain(window);
  });

  it('applies the range and the filters to the copies the window kept, and before it only whole hours', () => {
    const sql = querySql('kpis', athenaDialect('clickstream', 'lake'), { ...params, device: 'mobile' });
    const [inside, after] = sql.split('WHERE copy_number = 1') as [string, string];
    expect(inside).not.toContain("device_type = 'mobile'");
    expect(inside).not.toContain("TIMESTAMP '2026-11-22 23:30:00.000'");
    expect(inside).toContain("event_time >= TIMESTAMP '2026-11-22 23:00:00.000'");
    expect(after).toContain("device_type = 'mobile'");
    expect(after).toContain("event_time >= TIMESTAMP '2026-11-22 23:30:00.000'");
  });

  it('writes both dialects UTC wall-clock timestamps, and each its own epoch conversion', () => {
    expect(querySql('freshness', duckdbDialect(), params)).toContain("event_time >= TIMESTAMP '2026-11-22 23:30:00.000'");
    expect(querySql('freshness', duckdbDialect(), params)).toContain('epoch_ms(max(newest_event_time))');
    const athena = querySql('freshness', athenaDialect('clickstream', 'lake'), params);
    expect(athena).toContain("event_time >= TIMESTAMP '2026-11-22 23:30:00.000'");
    expect(athena).toContain("date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', max(newest_event_time))");
    expect(athena).toContain('FROM "clickstream"."events"');
  });

  it('picks minute, hour or day buckets by range', () => {
    expect(timeBucket({ fromMs: 0, toMs: 6 * 3_600_000 })).toBe('minute');
    expect(timeBucket({ fromMs: 0, toMs: 7 * 86_400_000 })).toBe('hour');
    expect(timeBucket({ fromMs: 0, toMs: 8 * 86_400_000 })).toBe('day');
  });
});
