// The `hero-gateway` command: parses arguments, runs one command, maps failures to one line and an exit code.

import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { parseListen } from '../config/listen.ts';
import { ConfigError, configPath } from '../config/load.ts';
import { serve } from '../main.ts';
import { createWhoami } from '../whoami.ts';
import { parseInvocation } from './args.ts';
import { grantCommand, groupCommand, roleCommand } from './commands/authz.ts';
import { backupCommand } from './commands/backup.ts';
import { checkCommand } from './commands/check.ts';
import { explainCommand } from './commands/explain.ts';
import { keysCommand } from './commands/keys.ts';
import { migrateCommand } from './commands/migrate.ts';
import { sessionCommand } from './commands/sessions.ts';
import { storeCommand } from './commands/store.ts';
import { tokenCommand } from './commands/tokens.ts';
import { userCommand } from './commands/users.ts';
import { loadConfigOrFail } from './context.ts';
import { commandHelp, groupHelp, topHelp } from './help.ts';
import { CliError, out } from './io.ts';
import { isGroup } from './spec.ts';

async function run(argv: string[]): Promise<number> {
  const call = parseInvocation(argv);
  if (call.kind === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    out(pkg.version);
    return 0;
  }
  if (call.kind === 'help') {
    if (call.missingCommand) {
      process.stderr.write(`${topHelp()}\n`);
      return 1;
    }
    out(
      call.topic === null ? topHelp() : isGroup(call.topic) ? groupHelp(call.topic) : commandHelp(call.topic),
    );
    return 0;
  }
  const { spec, args, flags: f } = call;
  const [group, sub] = spec.name.split(' ');
  switch (group) {
    case 'serve': {
      // Read the file here (once), so a missing or broken one is reported like for every other command.
      const config = loadConfigOrFail(f.config);
      const gw = await serve(configPath(f.config, process.env), { config });
      // Workers say nothing here: the primary's one line stands for all of them.
      if (cluster.isPrimary)
        process.stderr.write(
          `hero-gateway listening on ${gw.url}${gw.adminUrl ? ` (admin ${gw.adminUrl})` : ''}\n`,
        );
      return -1; // keep running
    }
    case 'check':
      return checkCommand(f.config);
    case 'explain':
      return explainCommand(f.config, args[0] as string, f.method ?? 'GET');
    case 'migrate':
      return migrateCommand(f.config);
    case 'backup':
      return backupCommand(f.config, args[0] as string, f.force === true);
    case 'user':
      return userCommand(sub, args, f);
    case 'token':
      return tokenCommand(sub, args, f);
    case 'session':
      return sessionCommand(sub, args, f);
    case 'store':
      return storeCommand(f);
    case 'role':
      return roleCommand(sub, args, f);
    case 'group':
      return groupCommand(sub, args, f);
    case 'grant':
    case 'revoke':
      return grantCommand(group, args, f);
    case 'keys':
      return keysCommand(sub, args, f);
    case 'whoami-upstream': {
      const { host, port } = parseListen(f.listen ?? '127.0.0.1:3000');
      const server = createWhoami();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, resolve);
      });
      const addr = server.address() as { address: string; port: number };
      process.stderr.write(
        `whoami-upstream listening on http://${host.includes(':') ? `[${host}]` : host}:${addr.port}\n`,
      );
      return -1;
    }
    default:
      throw new CliError(`"${spec.name}" is listed but not wired (see hero-gateway --help)`, 2);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      const n = err.problems.length;
      process.stderr.write(
        `error: the config has ${n} problem${n === 1 ? '' : 's'}:\n${err.problems.map((p) => `  ${p}\n`).join('')}`,
      );
      process.exitCode = 1;
    } else if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      const e = err as NodeJS.ErrnoException;
      const hint = e.code === 'EADDRINUSE' ? ' (is another gateway already running on that address?)' : '';
      process.stderr.write(`error: ${e.message ?? String(err)}${hint}\n`);
      process.exitCode = 2;
    }
  },
);
