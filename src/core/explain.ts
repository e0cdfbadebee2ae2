// Which route a URL would take, what it requires, and why that route won: shared by `explain` and the API.
import type { Config } from '../config/load.ts';
import { canonicalizeHost, normalizeTarget, splitAbsoluteUrl } from './normalize.ts';
import { candidateRoutes, type RouteTable, selectRoute, upstreamPath } from './routes.ts';

export type Explanation =
  | { outcome: 'bad_path'; reason: string }
  | { outcome: 'bad_host' }
  | { outcome: 'not_url' }
  | { outcome: 'gateway'; host: string; path: string }
  | { outcome: 'no_route'; host: string; path: string }
  | {
      outcome: 'route';
      host: string;
      path: string;
      route: { index: number; name: string; host: string; path: string; why: string };
      beats: { name: string; host: string; path: string }[];
      auth: string[];
      api: boolean;
      requireClaims: string[];
      context: string;
      upstream: string;
    };

export function explainUrl(config: Config, table: RouteTable, target: string): Explanation {
  // Split and checked exactly as forward-auth reads nginx's X-Original-URL, never by the URL standard.
  const url = splitAbsoluteUrl(target);
  if (!url) return { outcome: 'not_url' };
  const t = normalizeTarget(url.target);
  if (!t.ok) return { outcome: 'bad_path', reason: t.reason };
  const host = canonicalizeHost(url.authority, url.proto === 'https' ? 443 : 80);
  if (!host) return { outcome: 'bad_host' };
  const where = { host: host.hostname, path: t.path };
  const route = selectRoute(table, config.server.auth_prefix, host.hostname, t.path);
  if (route === 'gateway') return { outcome: 'gateway', ...where };
  if (!route) return { outcome: 'no_route', ...where };
  const why =
    route.hostRank === 0 ? 'exact host' : route.hostRank === 1 ? `wildcard ${route.host}` : 'any host (*)';
  return {
    outcome: 'route',
    ...where,
    route: { index: route.index, name: route.name, host: route.host, path: route.path, why },
    beats: candidateRoutes(table, host.hostname, t.path)
      .filter((r) => r !== route)
      .map((r) => ({ name: r.name, host: r.host, path: r.path })),
    auth: [...route.auth],
    api: route.api,
    requireClaims: [...route.require_claims],
    context: route.context,
    upstream: `${route.upstreamOrigin}${upstreamPath(route, t.forward)}${t.query}`,
  };
}
