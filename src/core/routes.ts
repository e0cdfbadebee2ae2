// The route table: compiled once per config, matched by a pure function over a normalized host and path.
import type { Route } from '../config/load.ts';

export interface CompiledRoute extends Route {
  /** Upstream origin, e.g. "http://127.0.0.1:3000". */
  upstreamOrigin: string;
  /** Upstream path prefix without trailing slash ("" for none). */
  upstreamPath: string;
  /** `path` lower-cased: what match keys are compared with. */
  matchPrefix: string;
  /** How many segments `path` has: what `strip_prefix` removes, however the request spelled them. */
  prefixSegments: number;
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

const PARAMS_OR_UPPER = /[;A-Z]/;
const SEGMENT_PARAMS = /;[^/]*/g;

/**
 * What a normalized path is matched on: lower-cased, and without `;` parameters. Upstreams that route
 * case-insensitively (Express by default, ASP.NET, IIS) serve "/ADMIN" as "/admin", and servlet containers
 * serve "/admin;x/y" as "/admin/y": a prefix must protect every spelling its upstream may treat as its own.
 */
export function matchKey(path: string): string {
  return PARAMS_OR_UPPER.test(path) ? path.replace(SEGMENT_PARAMS, '').toLowerCase() : path;
}

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
      matchPrefix: r.path.toLowerCase(),
      prefixSegments: r.path === '/' ? 0 : r.path.split('/').length - 1,
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

/** Prefix match on segment boundaries over a match key: "/public" matches "/public/x", never "/publicity". */
function keyMatches(prefix: string, key: string): boolean {
  if (prefix === '/') return true;
  if (!key.startsWith(prefix)) return false;
  return key.length === prefix.length || key.charCodeAt(prefix.length) === 47; // '/'
}

/**
 * Whether a normalized path is under a lower-case prefix (a route's or auth_prefix), in every case and with
 * any `;` parameters: "/auth" covers "/AUTH/x" and "/auth;a/x".
 */
export function pathMatches(prefix: string, path: string): boolean {
  return keyMatches(prefix, matchKey(path));
}

function firstMatch(list: readonly CompiledRoute[] | undefined, key: string): CompiledRoute | null {
  if (!list) return null;
  for (const r of list) if (keyMatches(r.matchPrefix, key)) return r;
  return null;
}

/**
 * The most specific route: exact host beats "*.domain" (longest suffix first) beats "*", and within a host
 * the longest path prefix wins. No match is null — there is never an implicit open route.
 */
export function matchRoute(table: RouteTable, hostname: string, path: string): CompiledRoute | null {
  return matchKeyRoute(table, hostname, matchKey(path));
}

function matchKeyRoute(table: RouteTable, hostname: string, key: string): CompiledRoute | null {
  const exact = firstMatch(table.exact.get(hostname), key);
  if (exact) return exact;
  for (const [suffix, list] of table.wildcard) {
    if (hostname.length > suffix.length && hostname.endsWith(suffix)) {
      const r = firstMatch(list, key);
      if (r) return r;
    }
  }
  return firstMatch(table.any, key);
}

/**
 * The one route decision every way in shares (proxied requests, WebSocket upgrades, forward-auth, explain):
 * "gateway" for the gateway's own paths under `authPrefix` (never an app's, in any spelling), else the most
 * specific route, else null. The path is folded into its match key once.
 */
export function selectRoute(
  table: RouteTable,
  authPrefix: string,
  hostname: string,
  path: string,
): CompiledRoute | 'gateway' | null {
  const key = matchKey(path);
  return keyMatches(authPrefix, key) ? 'gateway' : matchKeyRoute(table, hostname, key);
}

/** Every route whose host and path match, most specific first: what `explain` shows as candidates. */
export function candidateRoutes(table: RouteTable, hostname: string, path: string): CompiledRoute[] {
  const hostOk = (r: CompiledRoute) =>
    r.hostRank === 2 ||
    (r.hostRank === 0 && r.host === hostname) ||
    (r.hostRank === 1 && hostname.length > r.host.length - 1 && hostname.endsWith(r.host.slice(1)));
  const key = matchKey(path);
  return table.routes
    .filter((r) => hostOk(r) && keyMatches(r.matchPrefix, key))
    .sort(
      (a, b) => a.hostRank - b.hostRank || b.host.length - a.host.length || b.path.length - a.path.length,
    );
}

/**
 * The path the upstream receives: the canonical form, minus the route prefix when `strip_prefix` is set. The
 * prefix is removed by segments, since the request may spell it "/APP" or "/app;v=1".
 */
export function upstreamPath(route: CompiledRoute, forward: string): string {
  let path = forward;
  if (route.strip_prefix && route.prefixSegments > 0) {
    let at = 0;
    for (let n = 0; n < route.prefixSegments && at !== -1; n++) at = forward.indexOf('/', at + 1);
    path = at === -1 ? '/' : forward.slice(at);
  }
  return route.upstreamPath + path;
}
