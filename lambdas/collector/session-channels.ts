/**
 * The channel (traffic source and campaign) of each recent session, as its landing
 * event told it. A page reached from another page of the same site names only the site
 * as its referrer; its row gets the channel its session arrived by, so a visit counts
 * under one source. Bounded: the oldest sessions are forgotten first.
 *
 * The memory is per process. A later event of a session this process never saw (the
 * collector restarted, or another Lambda instance had the landing) is counted as
 * `direct`: docs/collector.md says so.
 */
import type { TrafficSource } from '../common/event-enums.ts';

export interface Channel {
  readonly source: TrafficSource;
  readonly campaign: string | null;
}

const DEFAULT_CAPACITY = 200_000;
/** Web analytics tools end a visit after 30 minutes without activity. */
const SESSION_GAP_MS = 30 * 60_000;

export class SessionChannels {
  private readonly sessions = new Map<string, Channel & { readonly lastMs: number }>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** The channel of this event: its session's if this process saw the session, else its own, else direct. */
  channelOf(sessionId: string | null, own: TrafficSource | undefined, campaign: string | null, timeMs: number): Channel {
    const known = sessionId === null ? undefined : this.sessions.get(sessionId);
    const recent = known && timeMs - known.lastMs < SESSION_GAP_MS ? known : undefined;
    // Once a visit has a channel it keeps it, so each visit counts under exactly one source.
    const channel: Channel = recent ?? { source: own ?? 'direct', campaign };
    if (sessionId !== null) {
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, { source: channel.source, campaign: channel.campaign, lastMs: Math.max(timeMs, known?.lastMs ?? 0) });
      if (this.sessions.size > this.capacity) this.sessions.delete(this.sessions.keys().next().value!);
    }
    return channel;
  }
}
