// `check`: validate a config file, print every problem, or the compiled route table.
import { configPath, loadConfigFile } from '../../config/load.ts';
import { compileRoutes } from '../../core/routes.ts';
import { hidePassword } from '../../core/url-password.ts';
import { readTlsPair } from '../../http/tls.ts';
import { failLoad } from '../context.ts';
import { out, table } from '../io.ts';

export async function checkCommand(flag: string | undefined): Promise<number> {
  const file = configPath(flag, process.env);
  const loaded = loadConfigFile(file);
  if (!loaded.ok && (loaded.unreadable || loaded.syntax)) failLoad(file, loaded);
  if (!loaded.ok) {
    process.stderr.write(`${file}: ${loaded.problems.length} problem(s)\n`);
    for (const p of loaded.problems) process.stderr.write(`  ${p}\n`);
    return 1;
  }
  const { config } = loaded;
  // A renewed certificate that does not match its key is caught here, before a reload or restart needs it.
  const { tls_cert: cert, tls_key: key } = config.server;
  if (cert !== undefined && key !== undefined) {
    const tls = readTlsPair(cert, key);
    if (!tls.ok) {
      process.stderr.write(`${file}: 1 problem(s)\n  ${tls.problem}\n`);
      return 1;
    }
  }
  const t = compileRoutes(config.route);
  out(`${file}: ok`);
  out(
    `public_url ${config.server.public_url}, listen ${config.server.listen}, store ${hidePassword(config.store.url)}`,
  );
  if (t.routes.length === 0) {
    out('no routes: every request will get 404');
    return 0;
  }
  out();
  out(
    table(
      ['#', 'name', 'host', 'path', 'auth', 'claims', 'context', 'upstream'],
      t.routes.map((r) => [
        String(r.index),
        r.name,
        r.host,
        r.path,
        r.auth.join(','),
        r.require_claims.join(',') || '-',
        r.context,
        r.upstream + (r.strip_prefix ? ' (strip prefix)' : ''),
      ]),
    ),
  );
  return 0;
}
