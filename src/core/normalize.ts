// Request-target and Host normalization: the one place that decides what path and host a request is for.
// Routing matches the normalized form and the upstream receives exactly that form, so what is checked is
// what is forwarded (no parser differential between gateway and app).

export type NormalizedTarget =
  | {
      ok: true;
      /** Decoded path, used for matching. */
      path: string;
      /** The same path re-encoded canonically: what the upstream receives. */
      forward: string;
      /** Raw query string including the leading "?", or "". */
      query: string;
    }
  | { ok: false; reason: string };

// pchar minus "%": a path made only of these needs no decoding and is already canonical.
const PLAIN_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;
// A dot segment is also "..;x": servlet containers drop path parameters and then resolve ".." (/..;/ trick).
// A segment that is only parameters ("/;x/") is empty once a servlet container dropped them.
const DOT_OR_EMPTY_SEGMENT = /\/\.{1,2}(?:[/;]|$)|\/\/|\/;/;
// Control characters (C0, DEL) and the backslash, raw or decoded.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const FORBIDDEN_CHAR = /[\u0000-\u001f\u007f\\]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const QUERY_FORBIDDEN = /[\u0000-\u001f\u007f-\uffff#]/;
// A request target is ASCII (RFC 9112). A raw byte above 0x7E reaches us as a Latin-1 character through a
// proxy header while the app decodes it as UTF-8: two readings of one path.
const NON_ASCII = /[\u0080-\uffff]/;
// The only non-ASCII characters whose simple case mapping is ASCII (İ ı ſ K): a case-insensitive upstream
// (Java's equalsIgnoreCase, for one) reads "/admın" as "/admin", which our ASCII folding would not.
const FOLDS_TO_ASCII = /[\u0130\u0131\u017f\u212a]/;

export function normalizeTarget(rawUrl: string): NormalizedTarget {
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q);
  // A raw "#" never belongs in a request target; some servers cut the path there, so we refuse it.
  if (query && QUERY_FORBIDDEN.test(query)) return { ok: false, reason: 'forbidden character in query' };
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'request target must start with "/"' };
  if (NON_ASCII.test(rawPath)) return { ok: false, reason: 'raw non-ASCII character in path' };

  if (PLAIN_PATH.test(rawPath) && !DOT_OR_EMPTY_SEGMENT.test(rawPath)) {
    return { ok: true, path: rawPath, forward: rawPath, query };
  }
  return normalizeSlow(rawPath, query);
}

function normalizeSlow(rawPath: string, query: string): NormalizedTarget {
  if (rawPath.includes('#')) return { ok: false, reason: 'raw "#" in path' };
  if (FORBIDDEN_CHAR.test(rawPath)) return { ok: false, reason: 'backslash or control character in path' };
  const raw = rawPath.split('/');
  const decoded: string[] = [''];
  const encoded: string[] = [''];
  for (let i = 1; i < raw.length; i++) {
    const seg = raw[i] as string;
    // Empty segments ("//") let "/admin" be spelled "//admin"; apps disagree on what that means.
    if (seg === '' && i !== raw.length - 1) return { ok: false, reason: 'empty path segment' };
    let d: string;
    try {
      d = decodeURIComponent(seg); // decode exactly once
    } catch {
      return { ok: false, reason: 'malformed percent-encoding' };
    }
    // Encoded separators or dot segments would be re-interpreted by the upstream after we matched.
    const why = hiddenSegmentProblem(d);
    if (why) return { ok: false, reason: why };
    if (FOLDS_TO_ASCII.test(d)) return { ok: false, reason: 'character that case-folds to ASCII' };
    // "/;x/admin": empty once the parameters are dropped, the way "//admin" is.
    if (d.startsWith(';') && i !== raw.length - 1) return { ok: false, reason: 'empty path segment' };
    decoded.push(d);
    encoded.push(encodeSegment(d));
  }
  return { ok: true, path: decoded.join('/'), forward: encoded.join('/'), query };
}

/**
 * Why a decoded segment would mean something else to the upstream than to our matching: a separator, a control
 * character or a dot segment, or an escape still left after our one decoding — an app that decodes twice reads
 * "%2561dmin" as "admin" and "%252e%252e" as "..", paths our routes never saw. Null if none.
 */
function hiddenSegmentProblem(segment: string): string | null {
  if (segment.includes('/') || FORBIDDEN_CHAR.test(segment)) return 'encoded separator or control';
  const beforeParams = segment.split(';', 1)[0];
  if (beforeParams === '.' || beforeParams === '..') return 'dot segment';
  if (PERCENT_ESCAPE.test(segment)) return 'double-encoded character';
  return null;
}

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;

const KEEP = /%(24|26|2B|2C|3A|3B|3D|40)/g;

/** Percent-encode a decoded segment, keeping the pchar sub-delimiters unencoded (canonical form). */
export function encodeSegment(decoded: string): string {
  return encodeURIComponent(decoded).replace(KEEP, (m) => decodeURIComponent(m));
}

export interface AbsoluteParts {
  proto: 'http' | 'https';
  /** Everything between "//" and the first "/": canonicalized (and so refused if odd) like a Host header. */
  authority: string;
  /** From the first "/" on ("/" when there is none): normalized like a request target. */
  target: string;
}

// Split at the first "/" after the scheme and nothing else: a parser that also ends the authority at "\", "#",
// "?" or "@" (the URL standard does) reads a path the proxy never served — those characters make the authority
// invalid instead, and it is refused.
const ABSOLUTE = /^(https?):\/\/([^/]*)(\/.*)?$/s;

/** An absolute http(s) URL split the way a proxy that built it from Host and request-target meant it. */
export function splitAbsoluteUrl(url: string): AbsoluteParts | null {
  const m = ABSOLUTE.exec(url);
  if (!m) return null;
  return { proto: m[1] as 'http' | 'https', authority: m[2] as string, target: m[3] ?? '/' };
}

export interface CanonicalHost {
  /** Lower-case host name without port or trailing dot: what routes match on. */
  hostname: string;
  /** hostname[:port] with the default port dropped: what X-Forwarded-Host carries. */
  authority: string;
}

const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;

export function canonicalizeHost(raw: string | undefined, defaultPort: number): CanonicalHost | null {
  if (!raw) return null;
  let host = raw.toLowerCase();
  let port = '';
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && !(host.startsWith('[') && colon < host.indexOf(']'))) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535 || Number(port) === 0) return null;
    if (Number(port) === defaultPort) port = '';
    else port = String(Number(port));
  }
  if (host.endsWith('.')) host = host.slice(0, -1); // one trailing dot: "pub.test." is "pub.test"
  if (!(HOST_NAME.test(host) || IPV6_LITERAL.test(host)) || host.length > 253) return null;
  return { hostname: host, authority: port ? `${host}:${port}` : host };
}
