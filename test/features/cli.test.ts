// The hero-gateway command as users run it: a real process, a real config file, a real store.
import assert from 'node:assert/strict';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { type Served, startServe } from '../helpers/serve.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

describe('hero-gateway CLI', () => {
  let dir: string;
  let config: string;
  let up: Upstream;
  let server: Served | null = null;

  before(async () => {
    dir = tempDir('hgw-cli-');
    up = await startUpstream();
    config = join(dir, 'gw.toml');
    writeFileSync(
      config,
      `[server]
listen = "127.0.0.1:0"
data_dir = "./data"
log_level = "warn"
[admin]
listen = ""
[[route]]
name = "api"
path = "/api"
upstream = "${up.url}"
auth = "bearer"
[[route]]
name = "ops"
path = "/ops"
upstream = "${up.url}"
auth = "bearer"
require_claims = ["ops.deploy"]
`,
    );
  });
  after(async () => {
    await server?.stop();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('check: three mistakes → three problems, exit 1; the server refuses to start on the file', async () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(
      bad,
      `[server]\nlisten = "nowhere"\n[[route]]\nname = "x"\npath = "api"\nupstream = "http://127.0.0.1:1"\nauth = "ldap"\n`,
    );
    const r = await cli(['check', '-c', bad]);
    assert.equal(r.code, 1);
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('  '));
    assert.deepEqual(problems.map((p) => p.trim()).sort(), [
      'route[0].auth: must be one of "none", "bearer", "local", "oauth" but is "ldap"',
      'route[0].path: must start with "/" but is "api"',
      'server.listen: must be "host:port" (for example "127.0.0.1:8080") but is "nowhere"',
    ]);
    const s = await cli(['serve', '-c', bad]);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /3 problems/);
  });

  test('check on a valid file prints the route table; -c falls back to $HERO_GATEWAY_CONFIG', async () => {
    const r = await cli(['check'], { env: { HERO_GATEWAY_CONFIG: config } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: ok/);
    assert.match(r.stdout, /api\s+\*\s+\/api\s+bearer/);
  });

  test('explain says which route wins and why', async () => {
    const r = await cli(['explain', '-c', config, 'http://any.example/api/v1?x=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /route\[0\] "api"/);
    assert.match(r.stdout, /auth: bearer/);
    const none = await cli(['explain', '-c', config, 'http://any.example/nothing']);
    assert.match(none.stdout, /404/);
    const bad = await cli(['explain', '-c', config, 'http://any.example/api/%2e%2e/ops']);
    assert.match(bad.stdout, /400/);
  });

  test('migrate applies once, then reports up to date', async () => {
    const first = await cli(['migrate', '-c', config]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 0001_init\.sql/);
    const second = await cli(['migrate', '-c', config]);
    assert.match(second.stdout, /up to date/);
  });

  test('while serve runs, every command acts on the next request', async () => {
    server = await startServe(config);
    const base = server.url;
    const secret = statSync(join(dir, 'data', 'secret'));
    assert.equal(secret.mode & 0o777, 0o600, 'generated secret is private');

    const add = await cli([
      'user',
      'add',
      'alice',
      '--email',
      'Alice@Example.com',
      '--no-password',
      '-c',
      config,
    ]);
    assert.equal(add.code, 0, add.stderr);
    const created = await cli([
      'token',
      'create',
      '--user',
      'alice',
      '--name',
      'ci',
      '--expires',
      '90d',
      '-c',
      config,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const lines = created.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, 'the token alone on stdout');
    const token = lines[0]!;
    assert.match(token, /^hgw_[A-Za-z0-9_-]{43,}$/);
    const call = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

    let before = up.seen.length;
    assert.equal((await call('/api')).status, 200);
    assert.equal(up.seen[before]?.headers['x-hero-user'], 'alice');
    assert.equal(up.seen[before]?.headers['x-hero-email'], 'alice@example.com');
    assert.equal((await call('/ops')).status, 403);

    assert.equal(
      (await cli(['role', 'set', 'deployer', '--claims', 'ops.deploy,ops.read', '-c', config])).code,
      0,
    );
    assert.equal((await cli(['group', 'add', 'sre', 'alice', '-c', config])).code, 0);
    assert.equal((await cli(['grant', '@sre', 'deployer', '--context', 'ops', '-c', config])).code, 0);
    before = up.seen.length;
    assert.equal((await call('/ops')).status, 200);
    assert.equal(up.seen[before]?.headers['x-hero-claims'], 'ops.deploy,ops.read');
    assert.equal((await call('/api')).status, 200);
    assert.equal(up.seen[before + 1]?.headers['x-hero-claims'], '', 'the grant is scoped to context ops');

    assert.equal((await cli(['group', 'remove', 'sre', 'alice', '-c', config])).code, 0);
    assert.equal((await call('/ops')).status, 403);

    assert.equal((await cli(['user', 'disable', 'alice', '-c', config])).code, 0);
    assert.equal((await call('/api')).status, 401);
    assert.equal((await cli(['user', 'enable', 'alice', '-c', config])).code, 0);
    assert.equal((await call('/api')).status, 200);

    const list = await cli(['token', 'list', '--user', 'alice', '-c', config]);
    const id = /^(tok_\S+)/m.exec(list.stdout)?.[1];
    assert.ok(id, list.stdout);
    assert.doesNotMatch(list.stdout, new RegExp(token.slice(4)), 'listing never shows the token');
    assert.equal((await cli(['token', 'revoke', id, '-c', config])).code, 0);
    assert.equal((await call('/api')).status, 401);
  });

  test('users: password from stdin, policy errors are one line with exit 1, nothing half-written', async () => {
    const short = await cli(
      ['user', 'add', 'bob', '--email', 'bob@example.com', '--password-stdin', '-c', config],
      {
        stdin: 'short\n',
      },
    );
    assert.equal(short.code, 1);
    assert.equal(short.stderr.trim().split('\n').length, 1);
    assert.match(short.stderr, /at least 12 characters/);
    const listed = await cli(['user', 'list', '-c', config]);
    assert.doesNotMatch(listed.stdout, /bob/);
    const ok = await cli(
      ['user', 'add', 'bob', '--email', 'bob@example.com', '--password-stdin', '--admin', '-c', config],
      {
        stdin: 'a long enough passphrase\n',
      },
    );
    assert.equal(ok.code, 0, ok.stderr);
    const dup = await cli([
      'user',
      'add',
      'bob2',
      '--email',
      'BOB@example.com',
      '--no-password',
      '-c',
      config,
    ]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already used/);
    const badName = await cli([
      'user',
      'add',
      'Bad Name',
      '--email',
      'x@example.com',
      '--no-password',
      '-c',
      config,
    ]);
    assert.equal(badName.code, 1);
    const del = await cli(['user', 'delete', 'bob', '-c', config]);
    assert.equal(del.code, 0);
    assert.doesNotMatch((await cli(['user', 'list', '-c', config])).stdout, /bob/);
  });

  test('usage errors are one clear line with exit 1', async () => {
    for (const args of [
      ['frobnicate'],
      ['token', 'create', '--user', 'alice'],
      ['check', '--bogus'],
      ['grant', 'alice'],
    ]) {
      const r = await cli([...args, '-c', config]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^error: .+\n$/, args.join(' '));
    }
    const missing = await cli(['user', 'list', '-c', join(dir, 'nope.toml')]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: no config file at .*nope\.toml — create one with: cp .*\(or pass -c FILE\)\n$/,
    );
  });
});
