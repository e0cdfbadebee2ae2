// Every command the CLI has: its arguments, the options it takes, a one-line summary and an example.
// Help, "did you mean", and the checks for extra arguments and options it does not take all read this table.

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder for the value in usage lines. */
  value?: string;
}

/** Every option any command takes; which command takes which is in `CommandSpec.options`. */
export const OPTIONS = {
  config: { type: 'string', short: 'c', value: 'FILE' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  method: { type: 'string', value: 'M' },
  email: { type: 'string', value: 'E' },
  admin: { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  'no-password': { type: 'boolean' },
  invite: { type: 'boolean' },
  user: { type: 'string', value: 'NAME' },
  name: { type: 'string', value: 'LABEL' },
  expires: { type: 'string', value: 'DURATION' },
  claims: { type: 'string', value: 'a,b' },
  context: { type: 'string', value: 'C' },
  listen: { type: 'string', value: 'ADDR' },
  force: { type: 'boolean' },
  from: { type: 'string', value: 'URL' },
  to: { type: 'string', value: 'URL' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
export type Flags = {
  -readonly [K in OptionName]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

export interface CommandSpec {
  /** Words that name it: "check", "user add". */
  name: string;
  /** Positional arguments; optional ones in brackets: ["NAME"], ["[ID]"]. */
  args: readonly string[];
  /** Options it takes (besides -c and -h), each with what it does here. */
  options: Readonly<Partial<Record<OptionName, string>>>;
  /** Options it cannot run without. */
  required?: readonly OptionName[];
  /** Options of which at most one may be given. */
  exclusive?: readonly OptionName[];
  /** The usage line after the command name, when the generated one would mislead. */
  synopsis?: string;
  summary: string;
  example: string;
  /** Runs without a config file. */
  noConfig?: true;
}

export interface GroupSpec {
  name: string;
  summary: string;
  subcommands: readonly CommandSpec[];
  example: string;
}

export const GLOBAL_OPTIONS: Readonly<Partial<Record<OptionName, string>>> = {
  config: 'the config file (default: $HERO_GATEWAY_CONFIG, then ./hero-gateway.toml)',
  help: 'show this help',
};

const cmd = (spec: CommandSpec): CommandSpec => spec;

export const COMMANDS: readonly (CommandSpec | GroupSpec)[] = [
  cmd({
    name: 'serve',
    args: [],
    options: {},
    summary: 'run the gateway (applies pending store migrations first)',
    example: 'hero-gateway serve -c /etc/hero-gateway/hero-gateway.toml',
  }),
  cmd({
    name: 'check',
    args: [],
    options: {},
    summary: 'validate the config, print every problem, or the compiled route table',
    example: 'hero-gateway check -c hero-gateway.toml',
  }),
  cmd({
    name: 'explain',
    args: ['URL'],
    options: { method: 'the request method (default GET)' },
    summary: 'which route a URL takes, what it requires, and why that route won',
    example: 'hero-gateway explain https://wiki.example.com/edit/page --method POST',
  }),
  cmd({
    name: 'migrate',
    args: [],
    options: {},
    summary: 'apply pending store migrations',
    example: 'hero-gateway migrate',
  }),
  cmd({
    name: 'backup',
    args: ['FILE'],
    options: { force: 'replace FILE if it exists' },
    summary: 'a consistent copy of the SQLite store, safe while serve runs (written with mode 0600)',
    example: 'hero-gateway backup /var/backups/hero-gateway-$(date +%F).db',
  }),
  {
    name: 'store',
    summary: 'move an installation between stores',
    example: 'hero-gateway store copy --from sqlite:./data/gateway.db --to postgres://gw@db.internal/gateway',
    subcommands: [
      cmd({
        name: 'store copy',
        args: [],
        options: {
          from: 'the store to copy (sqlite:PATH or postgres://…); read, never changed',
          to: 'the new store: migrated first, refused unless empty',
        },
        required: ['from', 'to'],
        summary: 'copy every user, session, token and grant into a new, empty store in one transaction',
        example:
          'hero-gateway store copy --from sqlite:./data/gateway.db --to postgres://gw@db.internal/gateway',
        noConfig: true,
      }),
    ],
  },
  {
    name: 'user',
    summary: 'create and manage users',
    example: 'hero-gateway user add alice --email alice@example.com --admin',
    subcommands: [
      cmd({
        name: 'user add',
        args: ['NAME'],
        options: {
          email: 'the address (required)',
          admin: 'grant the role admin',
          'password-stdin': 'read the password from standard input',
          'no-password': 'no password: the user signs in another way (a provider, a sign-in link)',
          invite: 'mail a set-password link valid for 7 days instead',
        },
        required: ['email'],
        exclusive: ['password-stdin', 'no-password', 'invite'],
        synopsis: 'NAME --email E [--admin] [--password-stdin | --no-password | --invite]',
        summary: 'create a user; without an option it asks for the password twice on the terminal',
        example: 'hero-gateway user add alice --email alice@example.com --admin',
      }),
      cmd({
        name: 'user list',
        args: [],
        options: {},
        summary: 'every user with address, confirmation and status',
        example: 'hero-gateway user list',
      }),
      cmd({
        name: 'user passwd',
        args: ['NAME'],
        options: { 'password-stdin': 'read the new password from standard input' },
        summary: "set a user's password (asks on the terminal); ends their sessions",
        example: 'hero-gateway user passwd alice',
      }),
      cmd({
        name: 'user email',
        args: ['NAME', 'EMAIL'],
        options: {},
        summary: "change a user's address",
        example: 'hero-gateway user email alice alice@new.example.com',
      }),
      cmd({
        name: 'user reset',
        args: ['NAME'],
        options: {},
        summary: 'mail a password-reset link',
        example: 'hero-gateway user reset alice',
      }),
      cmd({
        name: 'user disable',
        args: ['NAME'],
        options: {},
        summary: 'refuse the user from the next request on (sessions and tokens stop working)',
        example: 'hero-gateway user disable alice',
      }),
      cmd({
        name: 'user enable',
        args: ['NAME'],
        options: {},
        summary: 'let a disabled user in again',
        example: 'hero-gateway user enable alice',
      }),
      cmd({
        name: 'user mfa',
        args: ['list|reset', 'NAME'],
        options: {},
        summary: "list a user's second factors, or remove them all (a lost phone or key)",
        example: 'hero-gateway user mfa reset alice',
      }),
      cmd({
        name: 'user delete',
        args: ['NAME'],
        options: {},
        summary: 'delete a user and everything they own (tokens, sessions, grants)',
        example: 'hero-gateway user delete alice',
      }),
    ],
  },
  {
    name: 'session',
    summary: 'see and end sign-in sessions',
    example: 'hero-gateway session end --user alice',
    subcommands: [
      cmd({
        name: 'session list',
        args: ['[USER]'],
        options: { user: 'whose sessions (instead of USER)' },
        synopsis: 'USER',
        summary: "a user's active sessions",
        example: 'hero-gateway session list alice',
      }),
      cmd({
        name: 'session end',
        args: ['[ID]'],
        options: { user: 'end every session of this user' },
        synopsis: 'ID | --user NAME',
        summary: 'end one session, or all of a user; refused from the next request on',
        example: 'hero-gateway session end --user alice',
      }),
    ],
  },
  {
    name: 'token',
    summary: 'API tokens for scripts (Authorization: Bearer)',
    example: 'hero-gateway token create --user alice --name ci --expires 90d',
    subcommands: [
      cmd({
        name: 'token create',
        args: [],
        options: {
          user: 'the user the token acts as',
          name: 'a label to recognise it by',
          expires: 'lifetime such as 90d or 12h (default: never expires)',
          claims: "limit it to these of the user's claims",
        },
        required: ['user', 'name'],
        summary: 'print a new token once, alone on stdout; only its hash is kept',
        example: 'hero-gateway token create --user alice --name ci --expires 90d',
      }),
      cmd({
        name: 'token list',
        args: [],
        options: { user: "only this user's tokens" },
        summary: 'tokens with status and last use (never the tokens themselves)',
        example: 'hero-gateway token list --user alice',
      }),
      cmd({
        name: 'token revoke',
        args: ['ID'],
        options: {},
        summary: 'revoke a token by its id (from token list)',
        example: 'hero-gateway token revoke tok_…',
      }),
    ],
  },
  {
    name: 'role',
    summary: 'roles: named sets of claims',
    example: 'hero-gateway role set editor --claims wiki.read,wiki.write',
    subcommands: [
      cmd({
        name: 'role set',
        args: ['ROLE'],
        options: { claims: 'the claims the role holds, comma-separated' },
        required: ['claims'],
        summary: 'create a role or replace its claims (admin is built in and fixed)',
        example: 'hero-gateway role set editor --claims wiki.read,wiki.write',
      }),
      cmd({
        name: 'role list',
        args: [],
        options: {},
        summary: 'roles with their claims, and every grant',
        example: 'hero-gateway role list',
      }),
    ],
  },
  {
    name: 'group',
    summary: 'group membership (groups are created on first use)',
    example: 'hero-gateway group add sre alice',
    subcommands: [
      cmd({
        name: 'group add',
        args: ['GROUP', 'USER'],
        options: {},
        summary: 'put a user in a group',
        example: 'hero-gateway group add sre alice',
      }),
      cmd({
        name: 'group remove',
        args: ['GROUP', 'USER'],
        options: {},
        summary: 'take a user out of a group',
        example: 'hero-gateway group remove sre alice',
      }),
      cmd({
        name: 'group list',
        args: [],
        options: {},
        summary: 'every group and its members',
        example: 'hero-gateway group list',
      }),
    ],
  },
  cmd({
    name: 'grant',
    args: ['USER|@GROUP', 'ROLE'],
    options: { context: 'only in this context (default: everywhere)' },
    summary: 'grant a role to a user or a group, everywhere or in one context',
    example: 'hero-gateway grant @sre deployer --context ops',
  }),
  cmd({
    name: 'revoke',
    args: ['USER|@GROUP', 'ROLE'],
    options: { context: 'the context it was granted in' },
    summary: 'take a granted role away',
    example: 'hero-gateway revoke @sre deployer --context ops',
  }),
  {
    name: 'keys',
    summary: 'the keys that sign X-Hero-Assertion (kept in the store, shared by every instance)',
    example: 'hero-gateway keys rotate',
    subcommands: [
      cmd({
        name: 'keys list',
        args: [],
        options: {},
        summary: 'every signing key with its status and when it signs or may be removed',
        example: 'hero-gateway keys list',
      }),
      cmd({
        name: 'keys rotate',
        args: [],
        options: {},
        summary:
          'add a new signing key: published at once, signing a minute later; the old one stays published',
        example: 'hero-gateway keys rotate',
      }),
      cmd({
        name: 'keys remove',
        args: ['KID'],
        options: {},
        summary:
          'stop publishing a retired key (refused for the signing key and while its assertions are valid)',
        example: 'hero-gateway keys remove key_…',
      }),
    ],
  },
  cmd({
    name: 'whoami-upstream',
    args: [],
    options: { listen: 'address to listen on (default 127.0.0.1:3000)' },
    summary: 'a tiny app that echoes the headers it received',
    example: 'hero-gateway whoami-upstream --listen 127.0.0.1:3000',
    noConfig: true,
  }),
  cmd({
    name: 'help',
    args: ['[COMMAND]', '[SUBCOMMAND]'],
    options: {},
    summary: 'this overview, or one command with its options and an example',
    example: 'hero-gateway help token create',
    noConfig: true,
  }),
];

export const isGroup = (s: CommandSpec | GroupSpec): s is GroupSpec => 'subcommands' in s;

export function findTop(word: string): CommandSpec | GroupSpec | undefined {
  return COMMANDS.find((c) => c.name === word);
}

/** The usage line: "hero-gateway token create --user NAME --name LABEL [--expires DURATION] …". */
export function usageLine(spec: CommandSpec): string {
  if (spec.synopsis) return `hero-gateway ${spec.name} ${spec.synopsis}`;
  const parts: string[] = [...spec.args];
  const required = new Set(spec.required ?? []);
  for (const name of Object.keys(spec.options) as OptionName[]) {
    const o: OptionSpec = OPTIONS[name];
    const text = o.value ? `--${name} ${o.value}` : `--${name}`;
    parts.push(required.has(name) ? text : `[${text}]`);
  }
  return ['hero-gateway', spec.name, ...parts].join(' ');
}
