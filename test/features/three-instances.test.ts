// Three `hero-gateway serve` processes on one PostgreSQL database, as a deployment behind a load balancer without
// sticky sessions runs them: they start at the same moment on an empty database and migrate it once; a cookie from
// one works on the others; a revocation on one (or from the CLI) is refused by the others within a second; a token
// made through one's admin API works on another; mail requested through all three goes out exactly once each;
// sign-in failures spread over all three meet one limit; all three publish the same keys.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migrationFiles } from '../../src/adapters/migration-files.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/gateway.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { type Served, startServe } from '../helpers/serve.ts';
import { type Smtp, startSmtp } from '../helpers/smtp.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const SECRET = 'a-deployment-secret-shared-by-every-instance-0123456789';
/** Within this a change made anywhere must be refused everywhere. */
const PROPAGATION_MS = 1000;

describe('three instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let smtp: Smtp;
  let up: Upstream;
  let dir: string;
  const files: string[] = [];
  let gws: Served[] = [];
  let adminToken: string;

  before(async () => {
    db = await createTestDatabase();
    smtp = await startSmtp();
    up = await startUpstream();
    dir = tempDir();
    for (const name of ['a', 'b', 'c']) {
      mkdirSync(join(dir, name));
      const file = join(dir, name, 'hero-gateway.toml');
      writeFileSync(
        file,
        `[server]\nlisten = "127.0.0.1:0"\npublic_url = "http://gw.example.com"\ndata_dir = "${join(dir, name, 'data')}"\n` +
          `secret = "${SECRET}"\nlog_level = "warn"\n[admin]\nlisten = "127.0.0.1:0"\n[store]\nurl = "${db.url}"\n` +
          `[mail]\nfrom = "Gateway <gw@example.com>"\nsmtp_url = "${smtp.url}"\n` +
          `[[route]]\nname = "app"\npath = "/"\nupstream = "${up.url}"\nauth = "local"\n` +
          `[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n`,
      );
      files.push(file);
    }
    // The same moment, an empty database: the advisory lock lets exactly one of them apply the migrations.
    gws = await Promise.all(files.map((f) => startServe(f)));
  });
  after(async () => {
    await Promise.all(gws.map((g) => g.stop()));
    await smtp?.close();
    await up?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const [A, B, C] = [0, 1, 2];
  const at = (i: number) => gws[i] as Served;
  const status = async (i: number, path: string, headers: Record<string, string>) =>
    (await fetch(`${at(i).url}${path}`, { headers, redirect: 'manual' })).status;
  /** Milliseconds until `probe` holds, failing past PROPAGATION_MS. */
  const within = async (what: string, probe: () => Promise<boolean>) => {
    const t0 = performance.now();
    await until(probe, { what, timeoutMs: PROPAGATION_MS, intervalMs: 5 });
    return performance.now() - t0;
  };

  test('started together on an empty database: every migration applied exactly once, all three ready', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query('SELECT version FROM schema_migrations ORDER BY version');
    await c.end();
    assert.deepEqual(
      rows.map((r) => r.version),
      migrationFiles('postgres').map((m) => m.version),
    );
    for (const g of gws) assert.equal((await fetch(`${g.adminUrl}/readyz`)).status, 200);
    // The setup link is one per deployment: every instance printed the same one.
    const links = gws.map((g) => /\/auth\/setup\?token=(\S+)/.exec(g.output())?.[1]);
    assert.ok(links[0], 'a setup link was printed');
    assert.deepEqual(links, [links[0], links[0], links[0]]);

    const root = await cli(
      [
        'user',
        'add',
        'root',
        '--email',
        'root@example.com',
        '--admin',
        '--password-stdin',
        '-c',
        files[A] as string,
      ],
      {
        stdin: `${PASSWORD}\n`,
      },
    );
    assert.equal(root.code, 0, root.stderr);
    const made = await cli([
      'token',
      'create',
      '--user',
      'root',
      '--name',
      'admin',
      '-c',
      files[A] as string,
    ]);
    assert.equal(made.code, 0, made.stderr);
    adminToken = made.stdout.trim();
    const alice = await cli(
      ['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin', '-c', files[A] as string],
      {
        stdin: `${PASSWORD}\n`,
      },
    );
    assert.equal(alice.code, 0, alice.stderr);
  });

  test('a cookie from A works on B and C; signed out on C (and ended from the CLI): refused on A and B within 1 s', async () => {
    const delays: number[] = [];
    for (const end of ['sign-out on C', 'the CLI'] as const) {
      const browser = new BrowserClient(at(A).url);
      assert.equal((await browser.signIn('alice', PASSWORD, '/')).status, 303);
      const cookie = { cookie: browser.cookieHeader() };
      for (const i of [A, B, C]) assert.equal(await status(i, '/x', cookie), 200, `instance ${i}`);
      if (end === 'sign-out on C') {
        const onC = new BrowserClient(at(C).url);
        for (const [k, v] of browser.jar) onC.jar.set(k, v);
        assert.equal((await onC.submit('/auth/logout', '/auth/logout', {})).status, 200);
      } else {
        const run = await cli(['session', 'end', '--user', 'alice', '-c', files[C] as string]);
        assert.equal(run.code, 0, run.stderr);
      }
      // A script's request (no Accept: text/html) is answered 401 rather than sent to the sign-in page.
      for (const i of [A, B])
        delays.push(
          await within(`${end}: refused on ${i}`, async () => (await status(i, '/x', cookie)) === 401),
        );
    }
    console.log(
      `# revocation reached the other instances in ${delays.map((d) => d.toFixed(1)).join(', ')} ms`,
    );
  });

  test("a token made through A's admin API works on B; revoked through B's, refused on C within 1 s", async () => {
    const res = await fetch(`${at(A).adminUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', name: 'made on A' }),
    });
    assert.equal(res.status, 201);
    const { token, id } = (await res.json()) as { token: string; id: string };
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal(await status(B, '/api/x', bearer), 200);
    assert.equal(await status(C, '/api/x', bearer), 200);
    const revoked = await fetch(`${at(B).adminUrl}/api/v1/tokens/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.ok(revoked.ok, `revoke: ${revoked.status}`);
    await within('the token refused on C', async () => (await status(C, '/api/x', bearer)) === 401);
  });

  test('30 reset mails requested across all three arrive exactly once each', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `reader${i}`);
    for (const name of names) {
      const res = await fetch(`${at(A).adminUrl}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, email: `${name}@example.com`, password: PASSWORD }),
      });
      assert.equal(res.status, 201, await res.text());
    }
    const before = smtp.mails.length;
    await Promise.all(
      names.map(async (name, i) => {
        // Spread over the instances and over client addresses (the forgot form limits each address per hour).
        const b = new BrowserClient(at(i % 3).url);
        const res = await b.submit('/auth/forgot', '/auth/forgot', { identifier: `${name}@example.com` });
        assert.equal(res.status, 200);
      }),
    );
    await until(() => smtp.mails.length - before >= 30, { what: '30 reset mails', timeoutMs: 20_000 });
    // Every instance's sender has had time to send anything twice.
    await new Promise((r) => setTimeout(r, 1500));
    const to = smtp.mails.slice(before).map((m) => m.to);
    assert.equal(to.length, 30, `mails: ${to.join(' ')}`);
    assert.deepEqual(new Set(to).size, 30);
  });

  test('sign-in failures spread across A, B and C meet one shared limit', async () => {
    const results: number[] = [];
    // Account-and-network limit: 5 free failures, then a wait — counted in the store, not per instance.
    for (let i = 0; i < 6; i++)
      results.push((await new BrowserClient(at(i % 3).url).signIn('alice', `wrong ${i}`)).status);
    assert.deepEqual(results.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(results[5], 429, `statuses: ${results}`);
    assert.equal(
      (await new BrowserClient(at(B).url).signIn('alice', PASSWORD)).status,
      429,
      'B counts them too',
    );
  });

  test('all three publish the same signing keys', async () => {
    const jwks = await Promise.all(
      gws.map(async (g) => (await fetch(`${g.url}/auth/.well-known/jwks.json`)).json()),
    );
    assert.ok((jwks[0] as { keys: unknown[] }).keys.length >= 1);
    assert.deepEqual(jwks[1], jwks[0]);
    assert.deepEqual(jwks[2], jwks[0]);
  });
});
