// `explain URL`: which route a request would take, what it requires, and why that route won.
import { canonicalizeHost, normalizeTarget } from '../../core/normalize.ts';
import { candidateRoutes, compileRoutes, matchRoute, pathMatches, upstreamPath } from '../../core/routes.ts';
import { loadConfigOrFail } from '../context.ts';
import { CliError, out } from '../io.ts';

export async function explainCommand(
  flag: string | undefined,
  target: string,
  method: string,
): Promise<number> {
  const config = loadConfigOrFail(flag);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new CliError(`"${target}" is not an absolute URL (for example http://wiki.example.com/page)`);
  }
  const raw = target.replace(/^[a-z]+:\/\/[^/?#]*/i, '') || '/';
  out(`${method.toUpperCase()} ${target}`);
  const t = normalizeTarget(raw);
  if (!t.ok) {
    out(`→ 400 bad_path: ${t.reason}`);
    return 0;
  }
  const host = canonicalizeHost(url.host, url.protocol === 'https:' ? 443 : 80);
  if (!host) {
    out('→ 400 bad_host');
    return 0;
  }
  out(`normalized: host ${host.hostname}, path ${t.path}`);
  if (pathMatches(config.server.auth_prefix, t.path)) {
    out(`→ the gateway's own endpoint (${config.server.auth_prefix}); never proxied`);
    return 0;
  }
  const table = compileRoutes(config.route);
  const route = matchRoute(table, host.hostname, t.path);
  if (!route) {
    out('→ 404: no route matches this host and path (there is never an implicit open route)');
    return 0;
  }
  const others = candidateRoutes(table, host.hostname, t.path).filter((r) => r !== route);
  const hostWhy =
    route.hostRank === 0 ? 'exact host' : route.hostRank === 1 ? `wildcard ${route.host}` : 'any host (*)';
  out(`→ route[${route.index}] "${route.name}" (${hostWhy}, path prefix ${route.path})`);
  if (others.length > 0) out(`  beats: ${others.map((r) => `"${r.name}" (${r.host} ${r.path})`).join(', ')}`);
  out(`  auth: ${route.auth.join(' or ')}${route.api ? ' (api: never redirects)' : ''}`);
  out(`  requires claims: ${route.require_claims.join(', ') || 'none'} in context "${route.context}"`);
  out(`  upstream: ${route.upstreamOrigin}${upstreamPath(route, t.forward)}${t.query}`);
  return 0;
}
