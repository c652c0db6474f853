import { describe, expect, it } from 'vitest';
import { formatProgress, formatSummary, parseCount, parseRate, parseSeconds, parseSeed, parseShare } from '../../local/cli/cli-options.ts';

describe('CLI option parsing', () => {
  it('accepts good values', () => {
    expect(parseRate('max')).toBe('max');
    expect(parseRate('2500')).toBe(2500);
    expect(parseRate('0.5')).toBe(0.5);
    expect(parseCount('--count', '50000')).toBe(50_000);
    expect(parseSeconds('--duration', '1.5')).toBe(1.5);
    expect(parseSeed('0')).toBe(0);
    expect(parseShare('--inject-late', '0.01')).toBe(0.01);
    expect(parseShare('--inject-late', undefined)).toBe(0);
  });

  it.each([
    [() => parseRate('fast'), /--rate must be events per second .* or "max", got "fast"/],
    [() => parseRate('0'), /--rate must be events per second/],
    [() => parseRate('-5'), /--rate must be events per second/],
    [() => parseRate('1e9'), /--rate must be events per second/],
    [() => parseCount('--count', '0'), /--count must be a whole number of at least 1, got "0"/],
    [() => parseCount('--count', '10.5'), /--count must be a whole number/],
    [() => parseSeconds('--duration', '10m'), /--duration must be a number of seconds above 0, got "10m"/],
    [() => parseSeed('-1'), /--seed must be a whole number from 0 to 4294967295/],
    [() => parseShare('--inject-malformed', '5%'), /--inject-malformed must be a share from 0 to 1/],
    [() => parseShare('--inject-malformed', '1.5'), /--inject-malformed must be a share from 0 to 1/],
  ])('rejects a bad value with the flag and the fix (%#)', (parse, message) => {
    expect(parse).toThrow(message);
  });

  it('formats progress and the summary for people', () => {
    expect(formatProgress({ sent: 1234567, errors: 0, retrying: 0, elapsedSeconds: 12.7, eventsPerSecond: 51234.4 })).toBe(
      'sent 1,234,567  51,234/s  errors 0  12s',
    );
    expect(formatSummary({ sent: 10, errors: 2, retries: 0, elapsedSeconds: 1, eventsPerSecond: 10, lastError: 'broker down' })).toBe(
      'sent 10 events in 1.0s (10/s), 2 not acknowledged; last error: broker down',
    );
  });

  it('says while the broker is away that events are held and retried, and afterwards how many batches were sent again', () => {
    expect(formatProgress({ sent: 5000, errors: 0, retrying: 1000, elapsedSeconds: 40, eventsPerSecond: 0, lastError: 'Connection refused' })).toBe(
      'sent 5,000  0/s  errors 0  40s  broker not acknowledging, 1,000 events held and retried  last error: Connection refused',
    );
    expect(formatSummary({ sent: 9000, errors: 0, retries: 12, elapsedSeconds: 60, eventsPerSecond: 150 })).toBe(
      'sent 9,000 events in 60.0s (150/s), 0 not acknowledged, 12 batches sent again after the broker did not acknowledge them',
    );
  });
});
