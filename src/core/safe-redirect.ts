// Where the gateway may send a browser after sign-in: a same-origin path, or an absolute URL on an origin the
// gateway itself serves. Everything else becomes "/". Checked when return_to is received and again at redirect.
import type { CompiledRoute } from './routes.ts';

export type OriginCheck = (url: URL) => boolean;

/**
 * Origins the gateway serves: public_url's, and every exact or wildcard route host on public_url's scheme.
 * A `*` route does not make every host trustworthy, so it adds nothing.
 */
export function compileServedOrigins(publicUrl: string, routes: readonly CompiledRoute[]): OriginCheck {
  const pub = new URL(publicUrl);
  const exact = new Set<string>([pub.host]);
  const suffixes: string[] = [];
  for (const r of routes) {
    if (r.hostRank === 0) exact.add(r.host);
    else if (r.hostRank === 1) suffixes.push(r.host.slice(1));
  }
  return (url) => {
    if (url.protocol !== pub.protocol) return false;
    if (exact.has(url.host)) return true;
    // Wildcard routes match host names only, on the default port of the scheme.
    return (
      url.port === '' && suffixes.some((s) => url.hostname.length > s.length && url.hostname.endsWith(s))
    );
  };
}

// Browsers drop tabs and newlines inside URLs and leading/trailing C0 and spaces, so "/\t/evil" is "//evil".
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_CHARS = /[\u0000-\u0020\u007f\\]/;

/** The target if it is safe to redirect to, else "/". Never throws. */
export function safeReturnTo(target: unknown, publicUrl: string, served: OriginCheck): string {
  if (typeof target !== 'string' || target === '' || target.length > 2048) return '/';
  if (UNSAFE_CHARS.test(target)) return '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    return '/';
  }
  // Encoded variants ("/%2F%2Fevil", "/%5Cevil") turn into protocol-relative URLs if anything decodes them.
  if (UNSAFE_CHARS.test(decoded) || decoded.startsWith('//')) return '/';
  if (target.startsWith('/')) {
    if (target.startsWith('//')) return '/';
    const base = new URL(publicUrl);
    const resolved = new URL(target, base);
    if (resolved.origin !== base.origin) return '/';
    // Resolving removes dot segments: "/.//evil" and "/a/..//evil" become "//evil", a link to another site.
    // Check what comes out, not only what went in.
    const path = resolved.pathname;
    if (path.startsWith('//') || path.includes('\\')) return '/';
    return path + resolved.search + resolved.hash;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return '/';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return '/';
  if (url.username || url.password) return '/';
  return served(url) ? url.href : '/';
}
