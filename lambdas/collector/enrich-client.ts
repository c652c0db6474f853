/**
 * What the collector can tell about the client that sent a request, for the event's
 * device_type, os, browser and user_country (schema v2: each may be null).
 *
 * - Device class, OS and browser from the User-Agent (bowser). A bot, by isbot's list or by
 *   bowser, is device_type 'bot'. Mapping and rules: docs/collector.md, "Enrichment".
 * - Country from the client IP through DB-IP's IP to Country Lite database (CC BY 4.0,
 *   attribution required: docs/collector.md), an MMDB file that installs with its npm package;
 *   nothing is downloaded at run time. The address is only looked up: never returned, stored
 *   or logged.
 *
 * `createClientEnricher` is the pure core over the database's bytes; `loadClientEnricher`
 * reads the file once (about 8 MB; async only for the read: the handler and the local server
 * await it when they start), from beside the bundle (the collector's LAMBDA_ASSETS entry puts
 * it there) or else from node_modules (tests, tsx).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Bowser from 'bowser';
import { isbot } from 'isbot';
import { Reader, type CountryResponse } from 'mmdb-lib';
import { COUNTRY_DB_ASSET } from '../common/country-db.ts';
import type { DeviceType } from '../common/event-enums.ts';

export interface ClientFacts {
  device_type: DeviceType | null;
  os: string | null;
  browser: string | null;
  user_country: string | null;
}

export interface ClientHints {
  /** The shopper's User-Agent: the request header, or for a server-side sender the one it forwards. */
  userAgent?: string;
  /** The client's address, one bare IPv4 or IPv6 address (the caller picks it from the socket or X-Forwarded-For). */
  ip?: string;
  /** Snowplow's SP-Anonymous: do not use the IP. */
  anonymousIp?: boolean;
}

export interface ClientEnricher {
  facts(hints: ClientHints): ClientFacts;
}

/** The schema's bound on os and browser. */
const MAX_NAME_LENGTH = 32;

/**
 * bowser's platform types onto the schema's device classes. A TV (smart TVs, set-top boxes)
 * gets a site's desktop layout, as Universal Analytics counted it; its os (Tizen, webOS…)
 * still says what it is. A platform bowser cannot tell (a games console, an unknown client) is null.
 */
const DEVICE_BY_PLATFORM: Readonly<Record<string, DeviceType>> = {
  desktop: 'desktop',
  mobile: 'mobile',
  tablet: 'tablet',
  tv: 'desktop',
  bot: 'bot',
};

/** bowser's names where the simulator (and so the dashboard's demo data) uses shorter ones. */
const BROWSER_NAMES: Readonly<Record<string, string>> = {
  'Microsoft Edge': 'Edge',
  'Samsung Internet for Android': 'Samsung Internet',
};

/** Addresses that name no place: private, loopback, link-local, shared (CGNAT), documentation, multicast, reserved. */
const NO_COUNTRY = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) NO_COUNTRY.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 127], // unspecified and loopback
  ['64:ff9b::', 96], // NAT64: the IPv4 inside is a translator's view, not the client's
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) NO_COUNTRY.addSubnet(network, prefix, 'ipv6');

/** `::ffff:1.2.3.4` (what Node's socket gives on a dual-stack listener) or `::ffff:102:304`. */
const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

function unmapIpv4(ip: string): string {
  const dotted = MAPPED_DOTTED.exec(ip);
  if (dotted) return dotted[1]!;
  const hex = MAPPED_HEX.exec(ip);
  if (!hex) return ip;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** Trimmed, at most the schema's 32 characters (whole code points: a cut never splits a surrogate pair), or null. */
function name(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? Array.from(trimmed).slice(0, MAX_NAME_LENGTH).join('') : null;
}

function fromUserAgent(userAgent: string | undefined): Omit<ClientFacts, 'user_country'> {
  // Typed as a string, but it comes from a request: a number or an array from a JSON body gives nulls too.
  const ua = typeof userAgent === 'string' ? userAgent.trim() : '';
  if (!ua) return { device_type: null, os: null, browser: null };
  const parsed = Bowser.parse(ua);
  const platform = parsed.platform.type ? DEVICE_BY_PLATFORM[parsed.platform.type] : undefined;
  const device_type = isbot(ua) ? 'bot' : (platform ?? null);
  const browserName = parsed.browser.name;
  let os = parsed.os.name;
  if (os === 'iOS' && device_type === 'tablet') os = 'iPadOS';
  return { device_type, os: name(os), browser: name(browserName ? (BROWSER_NAMES[browserName] ?? browserName) : undefined) };
}

/** The pure core: facts from the hints, the country from the given MMDB database (DB-IP's layout: `country_code`). */
export function createClientEnricher(countryDb: Buffer): ClientEnricher {
  const reader = new Reader<CountryResponse>(countryDb);

  function country(hints: ClientHints): string | null {
    if (hints.anonymousIp || typeof hints.ip !== 'string') return null;
    try {
      const ip = unmapIpv4(hints.ip.trim());
      const family = isIP(ip);
      if (family === 0 || NO_COUNTRY.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return null;
      const code = (reader.get(ip) as { country_code?: unknown } | null)?.country_code;
      // ZZ is DB-IP's "unknown"; anything not two capitals would fail the schema.
      return typeof code === 'string' && /^[A-Z]{2}$/.test(code) && code !== 'ZZ' ? code : null;
    } catch {
      // Whatever the address was, it names no country; and it is not repeated in an error.
      return null;
    }
  }

  return {
    facts: (hints) => ({ ...fromUserAgent(hints.userAgent), user_country: country(hints) }),
  };
}

/**
 * Where the database is: beside the bundle (the collector's asset; `..` too, for code in a
 * chunk under chunks/), else in the installed package. Throws a sentence if neither has it.
 */
export function countryDbPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, COUNTRY_DB_ASSET.file), join(here, '..', COUNTRY_DB_ASSET.file)]) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return createRequire(import.meta.url).resolve(`${COUNTRY_DB_ASSET.package}/${COUNTRY_DB_ASSET.file}`);
  } catch {
    throw new Error(
      `The IP-to-country database ${COUNTRY_DB_ASSET.file} is neither beside the bundle nor installed: ` +
        `list COUNTRY_DB_ASSET in the function's LAMBDA_ASSETS (lambdas/bundle-options.ts), or run npm install.`,
    );
  }
}

/** Reads the database and returns the enricher: once, when the process starts, not per request. */
export async function loadClientEnricher(): Promise<ClientEnricher> {
  return createClientEnricher(await readFile(countryDbPath()));
}
