// The `hero-gateway` command: parses arguments, runs one command, maps failures to one line and an exit code.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseListen } from '../config/listen.ts';
import { ConfigError, configPath } from '../config/load.ts';
import { serve } from '../main.ts';
import { createWhoami } from '../whoami.ts';
import { grantCommand, groupCommand, roleCommand } from './commands/authz.ts';
import { checkCommand } from './commands/check.ts';
import { explainCommand } from './commands/explain.ts';
import { migrateCommand } from './commands/migrate.ts';
import { sessionCommand } from './commands/sessions.ts';
import { tokenCommand } from './commands/tokens.ts';
import { userCommand } from './commands/users.ts';
import { CliError, out } from './io.ts';

const HELP = `hero-gateway — an authenticating reverse proxy

usage: hero-gateway <command> [-c FILE] [options]

  serve                               run the gateway
  check                               validate the config and print the route table
  explain URL [--method M]            which route a URL takes, and why
  migrate                             apply pending store migrations
  user add NAME --email E [--admin] [--password-stdin | --invite]
  user list | passwd NAME [--password-stdin] | email NAME EMAIL | reset NAME
  user disable NAME | enable NAME | delete NAME
  session list USER | end ID | end --user USER
  token create --user NAME --name LABEL [--expires 90d] [--claims a,b]
  token list [--user NAME] | revoke ID
  role set ROLE --claims a,b | role list
  group add|remove GROUP USER | group list
  grant USER|@GROUP ROLE [--context C]
  revoke USER|@GROUP ROLE [--context C]
  whoami-upstream [--listen ADDR]     a tiny app that echoes the headers it received

-c FILE defaults to $HERO_GATEWAY_CONFIG, then ./hero-gateway.toml.
Exit codes: 0 ok, 1 usage or validation error, 2 runtime failure.`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  method: { type: 'string' },
  email: { type: 'string' },
  admin: { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  invite: { type: 'boolean' },
  user: { type: 'string' },
  name: { type: 'string' },
  expires: { type: 'string' },
  claims: { type: 'string' },
  context: { type: 'string' },
  listen: { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]} (see hero-gateway --help)`);
  }
  const { values: f, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (f.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    out(pkg.version);
    return 0;
  }
  if (f.help || !command) {
    out(HELP);
    return command || f.help ? 0 : 1;
  }
  switch (command) {
    case 'serve': {
      const gw = await serve(configPath(f.config, process.env));
      process.stderr.write(
        `hero-gateway listening on ${gw.url}${gw.adminUrl ? ` (admin ${gw.adminUrl})` : ''}\n`,
      );
      return -1; // keep running
    }
    case 'check':
      return checkCommand(f.config);
    case 'explain':
      if (!rest[0]) throw new CliError('usage: hero-gateway explain URL [--method M]');
      return explainCommand(f.config, rest[0], f.method ?? 'GET');
    case 'migrate':
      return migrateCommand(f.config);
    case 'user':
      return userCommand(rest[0], rest.slice(1), f);
    case 'token':
      return tokenCommand(rest[0], rest.slice(1), f);
    case 'session':
      return sessionCommand(rest[0], rest.slice(1), f);
    case 'role':
      return roleCommand(rest[0], rest.slice(1), f);
    case 'group':
      return groupCommand(rest[0], rest.slice(1), f);
    case 'grant':
    case 'revoke':
      return grantCommand(command, rest, f);
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
      throw new CliError(`unknown command "${command}" (see hero-gateway --help)`);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
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
