// Header hygiene for what the upstream receives: strip first, then set. Pure functions over a header object.

export type HeaderMap = Record<string, string | string[] | undefined>;

/** Every spelling of the gateway's identity headers: X-Hero-User, x_hero_user, X-HERO_user, … */
export const IDENTITY_HEADER = /^x[-_]hero[-_]/i;

// RFC 9110 §7.6.1 hop-by-hop headers, plus the legacy and HTTP/2-only ones. Upgrade goes too: a tunnel is
// only ever opened by the WebSocket path, never by a plain proxied request.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'http2-settings',
]);

// Headers some frameworks (Symfony, Zend, IIS rewrite, Express method-override) read as the real URL or method:
// an app would act on a request other than the one the gateway decided about.
const REWRITES = new Set([
  'x-original-url',
  'x-original-method',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/**
 * Header names a Connection value declares per-hop (RFC 9110 §7.6.1) beyond the fixed list; null for none
 * (the usual `keep-alive` or `close`).
 */
function connectionNamed(connection: string | string[] | undefined): string[] | null {
  if (connection === undefined || (typeof connection === 'string' && HOP_BY_HOP.has(connection))) return null;
  // Several Connection lines name headers too: all of them count.
  const value = typeof connection === 'string' ? connection : connection.join(',');
  let named: string[] | null = null;
  for (const name of value.split(',')) {
    const n = name.trim().toLowerCase();
    if (n === '' || HOP_BY_HOP.has(n)) continue;
    if (named === null) named = [];
    named.push(n);
  }
  return named;
}

/** Whether a client-sent header never reaches an upstream (see stripClientHeaders). */
function clientOnly(name: string, named: string[] | null, dropAuthorization: boolean): boolean {
  if (HOP_BY_HOP.has(name) || REWRITES.has(name) || named?.includes(name)) return true;
  if (name === 'authorization') return dropAuthorization;
  // RFC 7239 Forwarded: the same trust problem as X-Forwarded-* (the gateway writes its own of those).
  if (name === 'forwarded' || name.startsWith('x-forwarded-')) return true;
  return IDENTITY_HEADER.test(name);
}

/**
 * Removes, from the request headers the client sent: headers named in Connection, hop-by-hop headers, every
 * identity-header spelling, the X-Forwarded-* set (the gateway writes its own), URL and method overrides, and
 * optionally Authorization. Node lower-cases names and joins duplicates, so one pass over the keys catches all.
 */
export function stripClientHeaders(headers: HeaderMap, dropAuthorization: boolean): void {
  const named = connectionNamed(headers.connection);
  for (const name of Object.keys(headers)) {
    if (clientOnly(name, named, dropAuthorization)) delete headers[name];
  }
}

/** A Cookie header that may hold one of the gateway's cookies (stripCookies decides). */
const GATEWAY_COOKIE = /hero_/i;

/**
 * What of the client's request headers may go on to an upstream, as a new object: everything
 * stripClientHeaders keeps, with the gateway's cookies taken out of Cookie (the session cookie is a bearer
 * credential for every route: no app ever sees it, nor the CSRF cookie). The caller then sets the gateway's
 * own headers on the result: strip first, then set. Copying what passes instead of deleting from the
 * client's object: V8 makes adding the gateway's headers to a spread copy cost microseconds per request.
 */
export function forwardableHeaders(headers: HeaderMap, dropAuthorization: boolean): HeaderMap {
  const named = connectionNamed(headers.connection);
  const out: HeaderMap = {};
  for (const name in headers) {
    if (clientOnly(name, named, dropAuthorization)) continue;
    const value = headers[name];
    if (name === 'cookie' && typeof value === 'string' && GATEWAY_COOKIE.test(value)) {
      const kept = stripCookies(value);
      if (kept !== undefined) out.cookie = kept;
    } else out[name] = value;
  }
  return out;
}

// Characters Node refuses in a header value: an upstream sending them must not make our reply throw.
const BAD_VALUE_CHARS = /[^\t\x20-\x7E\x80-\xFF]/;
const BAD_VALUE_CHARS_G = /[^\t\x20-\x7E\x80-\xFF]/g;
const cleanValue = (v: string) => (BAD_VALUE_CHARS.test(v) ? v.replace(BAD_VALUE_CHARS_G, '') : v);

/**
 * The upstream's response headers as the client may see them, as a new object (the input is left as it was).
 * Hop-by-hop headers (and those Connection names) belong to the upstream connection: forwarding
 * `Connection: keep-alive` would override a client's `Connection: close`. Values with characters Node cannot
 * send are cleaned rather than crash the reply. One pass that copies what may pass: cheaper than deleting
 * from the upstream's object, which turns it into a slow dictionary for every later read.
 */
export function cleanResponseHeaders(headers: HeaderMap): HeaderMap {
  const named = connectionNamed(headers.connection);
  const out: HeaderMap = {};
  for (const key in headers) {
    // Clear-Site-Data "cookies" would let any app, an open route's too, sign the user out of every app here.
    if (HOP_BY_HOP.has(key) || key === 'clear-site-data' || named?.includes(key)) continue;
    const v = headers[key];
    out[key] = typeof v === 'string' ? cleanValue(v) : Array.isArray(v) ? v.map(cleanValue) : v;
  }
  return out;
}

/**
 * Whether a cookie name is in the gateway's namespace: `hero_…` in any case, with or without a `__Host-` or
 * `__Secure-` prefix (browsers match those prefixes case-insensitively). The whole namespace is reserved, so no
 * spelling that a browser or an app would take for one of the gateway's cookies slips past a list of names.
 */
export function isGatewayCookieName(name: string): boolean {
  const n = name.trim().toLowerCase();
  const bare = n.startsWith('__host-') ? n.slice(7) : n.startsWith('__secure-') ? n.slice(9) : n;
  return bare.startsWith('hero_');
}

/**
 * A Set-Cookie line is the gateway's if its name is, or — for a nameless cookie (`=hero_session=x`, or no `=`
 * at all) — if its value starts with such a name: browsers store those with an empty name and send them back
 * as `hero_session=x`, which reads as the gateway's cookie.
 */
function setsGatewayCookie(line: string): boolean {
  const semi = line.indexOf(';');
  const pair = semi === -1 ? line : line.slice(0, semi);
  const eq = pair.indexOf('=');
  const name = eq === -1 ? '' : pair.slice(0, eq);
  if (name.trim() !== '') return isGatewayCookieName(name);
  const value = eq === -1 ? pair : pair.slice(eq + 1);
  const inner = value.indexOf('=');
  return isGatewayCookieName(inner === -1 ? value : value.slice(0, inner));
}

/**
 * Removes the upstream's Set-Cookie entries for the gateway's cookies: an app behind the gateway must not plant
 * or clear the gateway's session for the other apps on its host. Used for normal answers and WebSocket 101s.
 */
export function dropSetCookies(headers: HeaderMap): void {
  const set = headers['set-cookie'];
  if (set === undefined) return;
  const list = Array.isArray(set) ? set : [set];
  const kept = list.filter((c) => !setsGatewayCookie(c));
  if (kept.length === list.length) return;
  if (kept.length === 0) delete headers['set-cookie'];
  else headers['set-cookie'] = kept;
}

/** Removes the gateway's cookies from a Cookie header; returns the header to send, or undefined if none remain. */
export function stripCookies(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return cookieHeader;
  const kept = cookieHeader
    .split(';')
    .map((c) => c.trim())
    .filter((c) => {
      const eq = c.indexOf('=');
      return c !== '' && !isGatewayCookieName(eq === -1 ? c : c.slice(0, eq));
    });
  return kept.length > 0 ? kept.join('; ') : undefined;
}

export interface ForwardedFacts {
  /** The X-Forwarded-For chain to send (already including the peer). */
  forwardedFor: string;
  proto: string;
  host: string;
  requestId: string;
}

export function setForwardedHeaders(headers: HeaderMap, f: ForwardedFacts): void {
  headers['x-forwarded-for'] = f.forwardedFor;
  headers['x-forwarded-proto'] = f.proto;
  headers['x-forwarded-host'] = f.host;
  headers['x-request-id'] = f.requestId;
}

export interface IdentityFacts {
  username: string;
  email: string;
  context: string;
  /** Comma-separated, sorted; may be empty but the header is always sent. */
  claims: string;
  authMethod: string;
  /** X-Hero-Assertion, the signed form of the facts above. */
  assertion: string | null;
}

/** The identity headers the gateway sets (setIdentityHeaders) and forward-auth names, in one list. */
export const IDENTITY_HEADER_NAMES = [
  'x-hero-user',
  'x-hero-email',
  'x-hero-context',
  'x-hero-claims',
  'x-hero-auth-method',
  'x-hero-assertion',
] as const;

export function setIdentityHeaders(headers: HeaderMap, id: IdentityFacts): void {
  headers['x-hero-user'] = id.username;
  headers['x-hero-email'] = id.email;
  headers['x-hero-context'] = id.context;
  headers['x-hero-claims'] = id.claims;
  headers['x-hero-auth-method'] = id.authMethod;
  if (id.assertion) headers['x-hero-assertion'] = id.assertion;
}
