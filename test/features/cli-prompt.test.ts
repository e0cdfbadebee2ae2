// `user add` and `user passwd` at a real terminal: the password is asked twice, never echoed, held to the
// policy; without a terminal they refuse instead of making a password-less account by accident.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BrowserClient } from '../helpers/browser-client.ts';
import { BIN, cli } from '../helpers/cli.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const DRIVER = fileURLToPath(new URL('../helpers/pty-run.py', import.meta.url));
const PASSWORD = 'tangerine kayak moonlight';

/** Runs the CLI under a pseudo-terminal; each step waits for a prompt, then types a line. */
function underPty(args: string[], steps: [string, string][]): Promise<{ output: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [DRIVER, process.execPath, BIN, ...args], {
      env: { ...process.env, PTY_STEPS: JSON.stringify(steps) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(stdout)));
  });
}

describe('CLI password prompt', () => {
  let up: Upstream;
  let gw: TestGateway;
  let config: string;
  const signsIn = async (username: string, password: string) => {
    const b = new BrowserClient(gw.url);
    await b.signIn(username, password, '/');
    return (await b.get('/x')).status === 200;
  };

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(`[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`);
    config = join(gw.dir, 'cli.toml');
    writeFileSync(config, `[server]\ndata_dir = "${gw.dir}"\n[admin]\nlisten = ""\n`);
  });
  after(async () => {
    await gw.close();
    await up.close();
    rmSync(config, { force: true });
  });

  test('user add on a terminal asks twice without echo; a weak or mistyped password is asked again', async () => {
    const run = await underPty(
      ['user', 'add', 'carol', '--email', 'carol@example.com', '-c', config],
      [
        ['New password: ', 'short\r'],
        ['try again', ''],
        ['New password: ', `${PASSWORD}\r`],
        ['Repeat the password: ', 'something else entirely\r'],
        ['differ; try again', ''],
        ['New password: ', `${PASSWORD}\r`],
        ['Repeat the password: ', `${PASSWORD}\r`],
      ],
    );
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /at least 12 characters long; try again/);
    assert.match(run.output, /created user carol <carol@example\.com>/);
    for (const typed of [PASSWORD, 'short', 'something else'])
      assert.ok(!run.output.includes(typed), `"${typed}" was echoed:\n${run.output}`);
    assert.ok(await signsIn('carol', PASSWORD), 'carol signs in with the password typed at the prompt');
  });

  test('user passwd on a terminal sets the new password; three misses change nothing', async () => {
    const next = 'orchard lantern pebble';
    const miss = await underPty(
      ['user', 'passwd', 'carol', '-c', config],
      [1, 2, 3].flatMap((): [string, string][] => [
        ['New password: ', `${next}\r`],
        ['Repeat the password: ', 'not the same at all\r'],
      ]),
    );
    assert.equal(miss.code, 1, miss.output);
    assert.match(miss.output, /error: no password after 3 tries; nothing was changed/);
    assert.ok(await signsIn('carol', PASSWORD), 'the old password still works');

    const run = await underPty(
      ['user', 'passwd', 'carol', '-c', config],
      [
        ['New password: ', `${next}\r`],
        ['Repeat the password: ', `${next}\r`],
      ],
    );
    assert.equal(run.code, 0, run.output);
    assert.ok(!run.output.includes(next), `the password was echoed:\n${run.output}`);
    assert.ok(await signsIn('carol', next));
    assert.ok(!(await signsIn('carol', PASSWORD)));
  });

  test('without a terminal: one line naming the ways, and no account; --no-password is deliberate', async () => {
    const add = await cli(['user', 'add', 'dave', '--email', 'dave@example.com', '-c', config]);
    assert.equal(add.code, 1);
    assert.equal(
      add.stderr,
      'error: no password given and no terminal to ask for one: use --password-stdin, --no-password or --invite\n',
    );
    assert.equal(await gw.store.users.byUsername('dave'), null, 'no account was made');

    const passwd = await cli(['user', 'passwd', 'carol', '-c', config]);
    assert.equal(passwd.code, 1);
    assert.equal(passwd.stderr, 'error: no terminal to ask for the new password: use --password-stdin\n');

    const none = await cli([
      'user',
      'add',
      'dave',
      '--email',
      'dave@example.com',
      '--no-password',
      '-c',
      config,
    ]);
    assert.equal(none.code, 0, none.stderr);
    const dave = await gw.store.users.byUsername('dave');
    assert.ok(dave);
    assert.equal(await gw.store.users.passwordHash(dave.id), null);

    const both = await cli([
      'user',
      'add',
      'erin',
      '--email',
      'e@example.com',
      '--no-password',
      '--invite',
      '-c',
      config,
    ]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^error: use only one of --no-password, --invite/);
  });
});
