/**
 * The channel that brought a visit, from what a browser event carries: the campaign
 * (utm_*) parameters and the referrer. The rules are the common ones of web analytics
 * tools, kept short and written down in docs/collector.md.
 */
import type { TrafficSource } from '../common/event-enums.ts';

export interface Campaign {
  readonly source?: string | undefined;
  readonly medium?: string | undefined;
  readonly name?: string | undefined;
}

const PAID_MEDIUMS = /^(cpc|ppc|paid|paid[_ -]?search|sem|cpm|display|retargeting)$/;
const EMAIL_MEDIUMS = /^(e[_-]?mail|newsletter)$/;
const SOCIAL_MEDIUMS = /^(social|social[_ -]?(network|media)|sm|paid[_ -]?social)$/;
const SOCIAL_HOSTS = /(^|\.)(facebook\.com|fb\.com|instagram\.com|t\.co|twitter\.com|x\.com|linkedin\.com|lnkd\.in|pinterest\.[a-z.]+|tiktok\.com|reddit\.com|youtube\.com|threads\.net|snapchat\.com|whatsapp\.com)$/;
const SEARCH_HOSTS = /(^|\.)(google\.[a-z.]+|bing\.com|duckduckgo\.com|yahoo\.[a-z.]+|baidu\.com|yandex\.[a-z.]+|ecosia\.org|qwant\.com|naver\.com|search\.brave\.com|startpage\.com)$/;
const SOCIAL_SOURCES = /^(facebook|fb|instagram|ig|twitter|x|linkedin|pinterest|tiktok|reddit|youtube|threads|snapchat|whatsapp)$/;

/** The URL's campaign parameters (`utm_source`, `utm_medium`, `utm_campaign`). */
export function campaignOfUrl(url: string | null | undefined): Campaign {
  const parsed = parseUrl(url);
  if (!parsed) return {};
  const get = (name: string) => parsed.searchParams.get(name) ?? undefined;
  return { source: get('utm_source'), medium: get('utm_medium'), name: get('utm_campaign') };
}

/**
 * The event's own channel, or `undefined` when it cannot tell: a page reached from
 * another page of the same site carries the site as its referrer, and its channel is the
 * visit's (the caller remembers it per session).
 */
export function trafficSourceOf(pageUrl: string, referrer: string | null, campaign: Campaign): TrafficSource | undefined {
  const medium = campaign.medium?.trim().toLowerCase();
  const source = campaign.source?.trim().toLowerCase();
  if (medium && PAID_MEDIUMS.test(medium)) return 'paid_search';
  if (medium && EMAIL_MEDIUMS.test(medium)) return 'email';
  if (medium && SOCIAL_MEDIUMS.test(medium)) return 'social';
  if (source && SOCIAL_SOURCES.test(source)) return 'social';
  const from = parseUrl(referrer)?.hostname.toLowerCase();
  const to = parseUrl(pageUrl)?.hostname.toLowerCase();
  if (from && SOCIAL_HOSTS.test(from)) return 'social';
  if (from && SEARCH_HOSTS.test(from)) return 'organic_search';
  if (from && from !== to) return 'referral';
  if (from) return undefined;
  // Tagged links with an unknown medium still came from somewhere: a referral, not direct.
  return medium || source ? 'referral' : 'direct';
}

function parseUrl(url: string | null | undefined): URL | undefined {
  if (!url) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
