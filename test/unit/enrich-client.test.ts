/**
 * The collector's enrichment with the real libraries and the real database (no mocks):
 * real User-Agent strings, addresses of well-known allocations (national ISPs, registries,
 * a government range), and the bundle the Lambda would load, run in a fresh Node process
 * from a directory with no node_modules above it (as in Lambda).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { COUNTRY_DB_ASSET, LAMBDA_BUNDLE_OPTIONS } from '../../lambdas/bundle-options.ts';
import { createClientEnricher, countryDbPath, loadClientEnricher, type ClientFacts, type ClientHints } from '../../lambdas/collector/enrich-client.ts';
import { DEVICE_TYPES } from '../../lambdas/common/event-enums.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const enricher = await loadClientEnricher();
const ua = (userAgent: string) => {
  const { device_type, os, browser } = enricher.facts({ userAgent });
  return { device_type, os, browser };
};
const country = (ip: string) => enricher.facts({ ip }).user_country;

/** Real User-Agent strings as the browsers and crawlers send them (versions current in late 2026 or their frozen forms). */
const USER_AGENTS: readonly [string, string, Omit<ClientFacts, 'user_country'>][] = [
  ['Chrome, Windows', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', { device_type: 'desktop', os: 'Windows', browser: 'Chrome' }],
  ['Chrome, macOS', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', { device_type: 'desktop', os: 'macOS', browser: 'Chrome' }],
  ['Chrome, Linux', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', { device_type: 'desktop', os: 'Linux', browser: 'Chrome' }],
  ['Edge, Windows', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', { device_type: 'desktop', os: 'Windows', browser: 'Edge' }],
  ['Firefox, Windows', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', { device_type: 'desktop', os: 'Windows', browser: 'Firefox' }],
  ['Safari, iPhone', 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', { device_type: 'mobile', os: 'iOS', browser: 'Safari' }],
  ['Chrome, Android phone (reduced UA)', 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', { device_type: 'mobile', os: 'Android', browser: 'Chrome' }],
  ['Samsung Internet, Galaxy S24', 'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', { device_type: 'mobile', os: 'Android', browser: 'Samsung Internet' }],
  ['Safari, iPad (mobile site requested)', 'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', { device_type: 'tablet', os: 'iPadOS', browser: 'Safari' }],
  // iPadOS 13+ Safari asks for desktop sites by default with a Mac's User-Agent: nothing tells it apart.
  ['Safari, iPad (default: a Mac UA)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', { device_type: 'desktop', os: 'macOS', browser: 'Safari' }],
  ['Chrome, Android tablet (Galaxy Tab S9)', 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', { device_type: 'tablet', os: 'Android', browser: 'Chrome' }],
  ['Samsung smart TV (Tizen)', 'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36', { device_type: 'desktop', os: 'Tizen', browser: 'Tizen' }],
  ['PlayStation 5', 'Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15', { device_type: null, os: null, browser: 'Safari' }],
  ['Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', { device_type: 'bot', os: null, browser: 'Googlebot' }],
  ['Googlebot smartphone', 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', { device_type: 'bot', os: 'Android', browser: 'Googlebot' }],
  ['bingbot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/131.0.0.0 Safari/537.36', { device_type: 'bot', os: null, browser: 'BingCrawler' }],
  ['curl', 'curl/8.5.0', { device_type: 'bot', os: null, browser: null }],
  ['python-requests', 'python-requests/2.32.3', { device_type: 'bot', os: null, browser: null }],
  // Automation (Puppeteer, Playwright, prerenderers, monitors), not a shopper: a bot.
  ['HeadlessChrome', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', { device_type: 'bot', os: 'Linux', browser: 'Chrome' }],
  ['empty', '', { device_type: null, os: null, browser: null }],
  ['blank', '   ', { device_type: null, os: null, browser: null }],
];

/** Well-known allocations whose country does not move, checked against the database (DB-IP Lite 2026-06). */
const ADDRESSES: readonly [string, string, string | null][] = [
  ['RIPE NCC (www.ripe.net)', '193.0.6.139', 'NL'],
  ['Deutsche Telekom', '80.128.0.1', 'DE'],
  ['Deutsche Telekom', '217.0.0.1', 'DE'],
  ['Orange France', '90.0.0.1', 'FR'],
  ['BT', '81.128.0.1', 'GB'],
  ['Telstra', '1.128.0.1', 'AU'],
  ['Comcast', '73.0.0.1', 'US'],
  ['US Department of Defense', '214.1.1.1', 'US'],
  ['KT (Korea Telecom)', '121.128.0.1', 'KR'],
  ['NTT OCN', '153.156.0.1', 'JP'],
  ['NIC.br', '200.160.0.8', 'BR'],
  ['BSNL', '117.192.0.1', 'IN'],
  ['Deutsche Telekom, IPv6', '2003::1', 'DE'],
  ['Orange France, IPv6', '2a01:c000::1', 'FR'],
  ['Comcast, IPv6', '2601::1', 'US'],
  ['RIPE NCC, IPv6', '2001:67c:2e8::1', 'NL'],
  ['NTT, IPv6', '2400:4050::1', 'JP'],
  ['IPv4-mapped IPv6, as a dual-stack socket gives it', '::ffff:80.128.0.1', 'DE'],
  ['IPv4-mapped IPv6, hexadecimal', '::ffff:5080:1', 'DE'],
  ['IPv4-mapped IPv6, upper case', '::FFFF:90.0.0.1', 'FR'],
  ['surrounding spaces (an X-Forwarded-For item)', ' 81.128.0.1 ', 'GB'],
  ['private 10/8', '10.1.2.3', null],
  ['private 172.16/12', '172.20.0.1', null],
  ['private 192.168/16', '192.168.1.1', null],
  ['shared address space (CGNAT)', '100.64.1.1', null],
  ['loopback', '127.0.0.1', null],
  ['loopback, mapped', '::ffff:127.0.0.1', null],
  ['IPv6 loopback', '::1', null],
  ['IPv6 unique local', 'fd12:3456::1', null],
  ['IPv6 link-local with a zone', 'fe80::1%eth0', null],
  ['documentation range', '192.0.2.1', null],
  ['multicast', '224.0.0.251', null],
  ['malformed: octet over 255', '999.1.1.1', null],
  ['malformed: letters', 'abc', null],
  ['empty', '', null],
  ['with a port', '80.128.0.1:443', null],
  ['a list, not one address', '80.128.0.1, 10.0.0.1', null],
  ['leading zeros', '080.128.0.1', null],
];

describe('client enrichment: User-Agent', () => {
  it.each(USER_AGENTS)('%s', (_label, userAgent, expected) => {
    expect(ua(userAgent)).toEqual(expected);
  });

  it('no User-Agent at all gives nulls', () => {
    expect(enricher.facts({})).toEqual({ device_type: null, os: null, browser: null, user_country: null });
  });

  it('hints of the wrong type (from a JSON body) give nulls, not an exception', () => {
    for (const value of [42, ['curl/8.5.0'], { ip: '80.128.0.1' }, null, true]) {
      const hints = { userAgent: value, ip: value } as unknown as ClientHints;
      expect(enricher.facts(hints)).toEqual({ device_type: null, os: null, browser: null, user_country: null });
    }
  });

  it('a 5 KB garbage User-Agent gives facts within the schema, without throwing', () => {
    const junk = Array.from({ length: 5 * 1024 }, (_, i) => String.fromCharCode(32 + ((i * 7919) % 95))).join('');
    const oneToken = 'x'.repeat(5 * 1024);
    for (const userAgent of [junk, oneToken, `Mozilla/5.0 (${'a;'.repeat(2560)})`, '\u0000\uffff\ud800']) {
      const facts = ua(userAgent);
      expect(facts.device_type === null || DEVICE_TYPES.includes(facts.device_type)).toBe(true);
      for (const value of [facts.os, facts.browser]) if (value !== null) expect(value).toMatch(/^[^]{1,32}$/u);
    }
    // isbot counts a User-Agent of one token (no browser sends one) as a script.
    expect(ua(oneToken).device_type).toBe('bot');
  });

  it('names longer than the schema allows are cut to 32 characters', () => {
    // A client bowser does not know is named by its first product token, however long.
    const facts = ua('ExampleShopCompanionApplicationForDesktop/5.2.1 (Windows NT 10.0; Win64; x64)');
    expect(facts).toEqual({ device_type: 'desktop', os: 'Windows', browser: 'ExampleShopCompanionApplicationF' });
    expect(facts.browser).toHaveLength(32);
    for (const [, userAgent] of USER_AGENTS) {
      const { os, browser } = ua(userAgent);
      for (const value of [os, browser]) if (value !== null) expect(value.length).toBeLessThanOrEqual(32);
    }
  });
});

describe('client enrichment: country from the IP', () => {
  it.each(ADDRESSES)('%s: %s', (_label, ip, expected) => {
    expect(country(ip)).toBe(expected);
  });

  it('Snowplow SP-Anonymous (anonymousIp) gives no country, whatever the address', () => {
    expect(enricher.facts({ ip: '80.128.0.1', anonymousIp: true }).user_country).toBeNull();
    expect(enricher.facts({ ip: '80.128.0.1', anonymousIp: false }).user_country).toBe('DE');
  });

  it('every answer is an ISO 3166-1 alpha-2 code in capitals or null', () => {
    for (let i = 0; i < 2000; i++) {
      const ip = [(i * 97) % 256, (i * 31) % 256, (i * 13) % 256, 1].join('.');
      const code = country(ip);
      if (code !== null) expect(code).toMatch(/^[A-Z]{2}$/);
    }
  });

  it('the facts name the address nowhere', () => {
    const facts = enricher.facts({ userAgent: 'curl/8.5.0', ip: '193.0.6.139' });
    expect(JSON.stringify(facts)).not.toContain('193.0.6.139');
  });

  it('a database that is not MMDB fails when loading, not per request', () => {
    expect(() => createClientEnricher(Buffer.from('not a database'))).toThrow();
  });

  it('the database loaded is the installed package file', () => {
    expect(countryDbPath()).toBe(join(ROOT, 'node_modules', COUNTRY_DB_ASSET.package, COUNTRY_DB_ASSET.file));
  });
});

describe('client enrichment, bundled as a Lambda', () => {
  // Outside the repository, so nothing can fall back to node_modules: what Lambda has.
  const outdir = mkdtempSync(join(tmpdir(), 'enrich-client-bundle-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const bundle = async () => {
    await build({ ...LAMBDA_BUNDLE_OPTIONS, absWorkingDir: ROOT, entryPoints: { index: 'lambdas/collector/enrich-client.ts' }, outdir });
    return join(outdir, 'index.mjs');
  };
  const run = (entry: string) =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { loadClientEnricher } = await import(${JSON.stringify(pathToFileURL(entry).href)});
         const e = await loadClientEnricher();
         console.log(JSON.stringify([e.facts({ userAgent: process.argv[1], ip: '::ffff:90.0.0.1' }), e.facts({ userAgent: 'curl/8.5.0', ip: '2003::1' })]));`,
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      ],
      { cwd: outdir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );

  it('built with the project esbuild options, it reads the database beside index.mjs and answers as the source does', async () => {
    const entry = await bundle();
    copyFileSync(join(ROOT, 'node_modules', COUNTRY_DB_ASSET.package, COUNTRY_DB_ASSET.file), join(outdir, COUNTRY_DB_ASSET.file));
    expect(JSON.parse(run(entry))).toEqual([
      { device_type: 'mobile', os: 'iOS', browser: 'Safari', user_country: 'FR' },
      { device_type: 'bot', os: null, browser: null, user_country: 'DE' },
    ]);
    // The libraries are inside (bowser, isbot, mmdb-lib): tens of KiB, not the database's megabytes.
    expect(statSync(entry).size).toBeLessThan(200 * 1024);
  }, 60_000);

  it('without the database beside it, loading says what to do', async () => {
    const entry = await bundle();
    rmSync(join(outdir, COUNTRY_DB_ASSET.file), { force: true });
    expect(() => run(entry)).toThrow(/dbip-country\.mmdb is neither beside the bundle nor installed: list COUNTRY_DB_ASSET/);
  }, 60_000);
});
