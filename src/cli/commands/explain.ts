// `explain URL`: which route a request would take, what it requires, and why that route won.
import { explainUrl } from '../../core/explain.ts';
import { compileRoutes } from '../../core/routes.ts';
import { loadConfigOrFail } from '../context.ts';
import { CliError, out } from '../io.ts';

export async function explainCommand(
  flag: string | undefined,
  target: string,
  method: string,
): Promise<number> {
  const config = loadConfigOrFail(flag);
  const e = explainUrl(config, compileRoutes(config.route), target);
  if (e.outcome === 'not_url')
    throw new CliError(`"${target}" is not an absolute URL (for example http://wiki.example.com/page)`);
  out(`${method.toUpperCase()} ${target}`);
  switch (e.outcome) {
    case 'bad_path':
      out(`→ 400 bad_path: ${e.reason}`);
      return 0;
    case 'bad_host':
      out('→ 400 bad_host');
      return 0;
  }
  out(`normalized: host ${e.host}, path ${e.path}`);
  if (e.outcome === 'gateway') {
    out(`→ the gateway's own endpoint (${config.server.auth_prefix}); never proxied`);
    return 0;
  }
  if (e.outcome === 'no_route') {
    out('→ 404: no route matches this host and path (there is never an implicit open route)');
    return 0;
  }
  out(`→ route[${e.route.index}] "${e.route.name}" (${e.route.why}, path prefix ${e.route.path})`);
  if (e.beats.length > 0)
    out(`  beats: ${e.beats.map((r) => `"${r.name}" (${r.host} ${r.path})`).join(', ')}`);
  out(`  auth: ${e.auth.join(' or ')}${e.api ? ' (api: never redirects)' : ''}`);
  out(`  requires claims: ${e.requireClaims.join(', ') || 'none'} in context "${e.context}"`);
  out(`  upstream: ${e.upstream}`);
  return 0;
}
