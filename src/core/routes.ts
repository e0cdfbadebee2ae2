// The route table: compiled once per config, matched by a pure function over a normalized host and path.
import type { Route } from '../config/load.ts';

export interface CompiledRoute extends Route {
  /** Upstream origin, e.g. "http://127.0.0.1:3000". */
  upstreamOrigin: string;
  /** Upstream path prefix without trailing slash ("" for none). */
  upstreamPath: string;
  hostRank: 0 | 1 | 2;
  /** A person can sign in for this route (local or oauth), so browsers are sent to the sign-in page. */
  signInPage: boolean;
  /** The one identity provider this route accepts when nothing else signs in here: browsers go straight to it. */
  directProvider: string | null;
  /** The session methods (`oidc:<id>`) the `oauth` mode accepts here, compiled once from `providers`. */
  providerMethods: ReadonlySet<string>;
}

export interface RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly exact: ReadonlyMap<string, readonly CompiledRoute[]>;
  /** Suffix (".example.com") → routes, most specific suffix first. */
  readonly wildcard: readonly (readonly [string, readonly CompiledRoute[]])[];
  readonly any: readonly CompiledRoute[];
}

const byPathLengthDesc = (a: CompiledRoute, b: CompiledRoute) => b.path.length - a.path.length;

export function compileRoutes(routes: readonly Route[]): RouteTable {
  const exact = new Map<string, CompiledRoute[]>();
  const wildcard = new Map<string, CompiledRoute[]>();
  const any: CompiledRoute[] = [];
  const compiled: CompiledRoute[] = [];
  for (const r of routes) {
    const u = new URL(r.upstream);
    const base = u.pathname.replace(/\/+$/, '');
    const hostRank = r.host === '*' ? 2 : r.host.startsWith('*.') ? 1 : 0;
    const signInPage = r.auth.includes('local') || r.auth.includes('oauth');
    const directProvider =
      r.auth.length === 1 && r.auth[0] === 'oauth' && r.providers.length === 1
        ? (r.providers[0] as string)
        : null;
    const c: CompiledRoute = Object.freeze({
      ...r,
      upstreamOrigin: u.origin,
      upstreamPath: base,
      hostRank,
      signInPage,
      directProvider,
      providerMethods: new Set(r.providers.map((p) => `oidc:${p}`)),
    });
    compiled.push(c);
    if (hostRank === 2) any.push(c);
    else if (hostRank === 1) push(wildcard, r.host.slice(1), c);
    else push(exact, r.host, c);
  }
  for (const list of [...exact.values(), ...wildcard.values(), any]) list.sort(byPathLengthDesc);
  return Object.freeze({
    routes: compiled,
    exact,
    wildcard: [...wildcard.entries()].sort((a, b) => b[0].length - a[0].length),
    any,
  });
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Whether a gateway session started by `method` signs its user in on this route: any session where `local` is
 * allowed; with `oauth` only, a session from one of the route's providers.
 */
export function acceptsSession(
  route: Pick<CompiledRoute, 'auth' | 'providerMethods'>,
  method: string,
): boolean {
  return route.auth.includes('local') || route.providerMethods.has(method);
}

/** Prefix match on segment boundaries: "/public" matches "/public" and "/public/x", never "/publicity". */
export function pathMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47; // '/'
}

function firstMatch(list: readonly CompiledRoute[] | undefined, path: string): CompiledRoute | null {
  if (!list) return null;
  for (const r of list) if (pathMatches(r.path, path)) return r;
  return null;
}

/**
 * The most specific route: exact host beats "*.domain" (longest suffix first) beats "*", and within a host
 * the longest path prefix wins. No match is null — there is never an implicit open route.
 */
export function matchRoute(table: RouteTable, hostname: string, path: string): CompiledRoute | null {
  const exact = firstMatch(table.exact.get(hostname), path);
  if (exact) return exact;
  for (const [suffix, list] of table.wildcard) {
    if (hostname.length > suffix.length && hostname.endsWith(suffix)) {
      const r = firstMatch(list, path);
      if (r) return r;
    }
  }
  return firstMatch(table.any, path);
}

/** Every route whose host and path match, most specific first: what `explain` shows as candidates. */
export function candidateRoutes(table: RouteTable, hostname: string, path: string): CompiledRoute[] {
  const hostOk = (r: CompiledRoute) =>
    r.hostRank === 2 ||
    (r.hostRank === 0 && r.host === hostname) ||
    (r.hostRank === 1 && hostname.length > r.host.length - 1 && hostname.endsWith(r.host.slice(1)));
  return table.routes
    .filter((r) => hostOk(r) && pathMatches(r.path, path))
    .sort(
      (a, b) => a.hostRank - b.hostRank || b.host.length - a.host.length || b.path.length - a.path.length,
    );
}

/** The path the upstream receives: the canonical form, minus the route prefix when `strip_prefix` is set. */
export function upstreamPath(route: CompiledRoute, forward: string): string {
  let path = forward;
  if (route.strip_prefix && route.path !== '/') {
    path = forward.slice(route.path.length);
    if (path === '') path = '/';
  }
  return route.upstreamPath + path;
}
