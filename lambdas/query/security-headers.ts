/**
 * The dashboard's security headers, defined once: the local server sends them
 * with every response and CloudFront's response headers policy sends the same.
 * The page loads only its own script, styles and API (same origin), so the
 * policy needs no exceptions beyond inline `data:` images.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

export const REFERRER_POLICY = 'no-referrer';

export const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': REFERRER_POLICY,
} as const;
