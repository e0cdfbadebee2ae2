// A newcomer's first commands: help for every command, one-line usage errors that point at what was meant,
// and a missing or mistyped config file explained in words.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { commandHelp, topHelp } from '../../src/cli/help.ts';
import { COMMANDS, isGroup } from '../../src/cli/spec.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';

const every = COMMANDS.flatMap((c) => (isGroup(c) ? c.subcommands : [c]));

describe('CLI help and usage errors', () => {
  let dir: string;
  before(() => {
    dir = tempDir('hgw-help-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the overview lists every command; each command help has its usage, options and an example', () => {
    const top = topHelp();
    for (const c of every) assert.match(top, new RegExp(`^  ${c.name}\\b`, 'm'), `${c.name} is listed`);
    for (const c of every) {
      const help = commandHelp(c);
      assert.match(help, new RegExp(`^usage: hero-gateway ${c.name}\\b`), c.name);
      for (const option of Object.keys(c.options)) assert.match(help, new RegExp(`--${option}\\b`), c.name);
      assert.match(help, new RegExp(`\\nexample:\\n  hero-gateway ${c.name}\\b`), c.name);
    }
  });

  test('help, --help and -h for commands and subcommands print that usage and exit 0', async () => {
    const runs = await Promise.all(
      [
        ['--help'],
        ['help'],
        ['help', 'user'],
        ['user', '--help'],
        ['token', 'create', '--help'],
        ['help', 'token', 'create'],
        ['backup', '-h'],
      ].map((args) => cli(args)),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const [top, help, user, userFlag, create, createHelp, backup] = runs.map((r) => r.stdout);
    assert.equal(top, help);
    for (const name of ['serve', 'backup', 'user add', 'session end', 'whoami-upstream', 'help'])
      assert.match(top ?? '', new RegExp(`^  ${name}\\b`, 'm'));
    assert.equal(user, userFlag);
    assert.match(user ?? '', /^usage: hero-gateway user <add\|list\|passwd/);
    assert.match(
      user ?? '',
      /user add NAME --email E \[--admin\] \[--password-stdin \| --no-password \| --invite\]/,
    );
    assert.match(user ?? '', /example:\n {2}hero-gateway user add /);
    assert.equal(create, createHelp);
    assert.match(
      create ?? '',
      /^usage: hero-gateway token create --user NAME --name LABEL \[--expires DURATION\]/,
    );
    assert.match(create ?? '', /--claims a,b +limit it/);
    assert.match(create ?? '', /example:\n {2}hero-gateway token create --user alice/);
    assert.match(backup ?? '', /--force +replace FILE/);
  });

  test('unknown commands, subcommands and options are one line with a suggestion, exit 1', async () => {
    const cases: [string[], string][] = [
      [['usr', 'list'], 'error: unknown command "usr" — did you mean "user"? (see hero-gateway --help)'],
      [
        ['user', 'lst'],
        'error: unknown command "user lst" — did you mean "user list"? (see hero-gateway user --help)',
      ],
      [['help', 'tokn'], 'error: unknown command "tokn" — did you mean "token"? (see hero-gateway --help)'],
      [['frobnicate'], 'error: unknown command "frobnicate" (see hero-gateway --help)'],
      [
        ['user', 'add', 'bob', '--emial', 'b@example.com'],
        'error: unknown option "--emial" — did you mean "--email"? (see hero-gateway user add --help)',
      ],
      [['check', '--bogus'], 'error: unknown option "--bogus" (see hero-gateway check --help)'],
      [
        ['check', 'extra'],
        'error: unexpected argument "extra": check takes no arguments (see hero-gateway check --help)',
      ],
      [
        ['user', 'list', 'foo'],
        'error: unexpected argument "foo": user list takes no arguments (see hero-gateway user list --help)',
      ],
      [['check', '--email', 'x'], 'error: check does not take --email (see hero-gateway check --help)'],
      [
        ['user', 'add', 'bob', '--email'],
        'error: --email needs a value (--email E) (see hero-gateway user add --help)',
      ],
      [
        ['user', 'list', '--admin=yes'],
        'error: user list does not take --admin (see hero-gateway user list --help)',
      ],
      [
        ['user'],
        'error: user needs a subcommand: add, list, passwd, email, reset, disable, enable, mfa, delete (see hero-gateway user --help)',
      ],
      [['explain'], 'error: explain needs URL (usage: hero-gateway explain URL [--method M])'],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      const [args, expected] = cases[i] as [string[], string];
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, `${expected}\n`, args.join(' '));
      assert.equal(r.stdout, '');
    });
  });

  test('no config file: where it was looked for and how to make one', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = await cli(['user', 'list'], { env: { HERO_GATEWAY_CONFIG: undefined }, cwd: empty });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: no config file at ${empty}/hero-gateway\\.toml — create one with: cp \\S*config\\.example\\.toml hero-gateway\\.toml \\(or pass -c FILE\\)\\n$`,
      ),
    );
  });

  test('a TOML syntax error names the line and column in words and points at it', async () => {
    const file = join(dir, 'broken.toml');
    writeFileSync(file, '[server]\ndata_dir = "./data"\n\n# the address\n  listen "127.0.0.1:8080"\n');
    const quoted = join(dir, 'bare.toml');
    writeFileSync(quoted, '[server]\nlisten = 127.0.0.1:8080\n');
    const [check, serve, bare] = await Promise.all([
      cli(['check', '-c', file], { cwd: dir }),
      cli(['serve', '-c', file], { cwd: dir }),
      cli(['check', '-c', quoted], { cwd: dir }),
    ]);
    const expected = [
      'error: broken.toml line 5, column 10: expected "=" after a key',
      '  5 |   listen "127.0.0.1:8080"',
      '    |          ^',
      '',
    ].join('\n');
    assert.equal(check.code, 1);
    assert.equal(check.stderr, expected);
    assert.equal(serve.code, 1);
    assert.equal(serve.stderr, expected);
    assert.equal(bare.code, 1);
    assert.match(
      bare.stderr,
      /^error: bare\.toml line 2, column \d+: expected a value: text needs quotes, as in listen = "…"\n/,
    );
  });
});
