// A full disk under the SQLite store (a small tmpfs, really filled): every endpoint that must write answers 503
// `store_unavailable` and changes nothing, nothing answers 500, reads keep working, /readyz says `store_full`,
// the CLI says so on one line and exits 2, and when space comes back everything works again by itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { listenAdmin, startGateway, type TestGateway, tempDir } from '../helpers/gateway.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const mountDir = tempDir('hgw-full-');
// Mounting needs privileges; where the machine refuses, there is no real full disk to test against.
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountDir]).status === 0;
const skip = mounted ? false : 'mounting a small tmpfs is not permitted here';

describe('a full disk under the SQLite store', { skip }, () => {
  let up: Upstream;
  let gw: TestGateway;
  let admin: string;
  let adminToken: string;
  let token: string;
  let signedIn: BrowserClient;
  const filler = join(mountDir, 'filler');
  const storeDir = join(mountDir, 'store');

  before(async () => {
    mkdirSync(storeDir);
    up = await startUpstream();
    gw = await startGateway(
      `[store]\nurl = "sqlite:${join(storeDir, 'gw.db')}"\n\n[accounts]\nregistration = "open"\n\n[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n\n[[route]]\nname = "app"\npath = "/"\nupstream = "${up.url}"\nauth = "local"\n`,
      { admin: true },
    );
    admin = await listenAdmin(gw);
    const alice = await createUser(gw.store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    const root = await createUser(gw.store, {
      username: 'root',
      email: 'root@example.com',
      emailVerified: true,
      admin: true,
    });
    const tokens = new ApiTokenService(gw.store, gw.clock);
    token = (await tokens.issue({ userId: alice.id, name: 'full', claims: null, expiresAt: null })).token;
    adminToken = (await tokens.issue({ userId: root.id, name: 'admin', claims: null, expiresAt: null }))
      .token;
    signedIn = new BrowserClient(gw.url);
    assert.equal((await signedIn.signIn('alice', PASSWORD, '/')).status, 303);
    // Used once while there is room: both identities are cached, as they would be on a running gateway.
    assert.equal((await signedIn.get('/app')).status, 200);
    assert.equal(
      (await fetch(`${gw.url}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    assert.equal(
      (await fetch(`${admin}/api/v1/users`, { headers: { authorization: `Bearer ${adminToken}` } })).status,
      200,
    );
  });
  after(async () => {
    await gw?.close();
    await up?.close();
    if (mounted) spawnSync('umount', ['-l', mountDir]);
    rmSync(mountDir, { recursive: true, force: true });
  });

  /** Fills the file system to the last byte. */
  function fillDisk(): void {
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024);
    try {
      for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
        for (;;) {
          try {
            writeSync(fd, chunk, 0, size);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            break;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  const adminCall = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${admin}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await res.text() };
  };

  test('full: writes 503 (pages, admin API), reads work, /readyz store_full, the CLI exits 2; then recovery', async (t) => {
    const users = JSON.parse((await adminCall('GET', '/users')).body) as {
      users: { id: string; username: string }[];
    };
    const aliceId = users.users.find((u) => u.username === 'alice')?.id ?? '';
    fillDisk();

    const answers: [string, number][] = [];
    const pages: [string, () => Promise<{ status: number }>][] = [
      ['sign-in', () => new BrowserClient(gw.url).signIn('alice', PASSWORD, '/')],
      [
        'registration',
        () =>
          new BrowserClient(gw.url).submit('/auth/register', '/auth/register', {
            username: 'carol',
            email: 'carol@example.com',
            password: PASSWORD,
            confirm_password: PASSWORD,
          }),
      ],
      [
        'password-reset request',
        () =>
          new BrowserClient(gw.url).submit('/auth/forgot', '/auth/forgot', {
            identifier: 'alice@example.com',
          }),
      ],
      [
        'sign-in link request',
        () =>
          new BrowserClient(gw.url).submit('/auth/magic-link', '/auth/magic-link', {
            identifier: 'alice@example.com',
          }),
      ],
      [
        'password change',
        () =>
          signedIn.submit('/auth/account', '/auth/account/password', {
            current_password: PASSWORD,
            new_password: `${PASSWORD}!`,
            confirm_password: `${PASSWORD}!`,
          }),
      ],
      ['sign-out', () => signedIn.submit('/auth/logout', '/auth/logout', {})],
    ];
    for (const [what, call] of pages) answers.push([what, (await call()).status]);
    const api: [string, string, string, unknown?][] = [
      ['create a user', 'POST', '/users', { username: 'dave', email: 'dave@example.com' }],
      ['issue a token', 'POST', '/tokens', { name: 'more' }],
      ['disable a user', 'PATCH', `/users/${aliceId}`, { disabled: true }],
      ['set a password', 'POST', `/users/${aliceId}/password`, { password: `${PASSWORD}?` }],
      ['mail a reset link', 'POST', `/users/${aliceId}/reset-mail`],
      ["end a user's sessions", 'DELETE', `/users/${aliceId}/sessions`],
      ['define a role', 'PUT', '/roles/viewer', { claims: ['app.read'] }],
      ['delete a user', 'DELETE', `/users/${aliceId}`],
    ];
    for (const [what, method, path, body] of api) {
      const res = await adminCall(method, path, body);
      answers.push([`admin API: ${what}`, res.status]);
      if (res.status === 503) assert.equal(JSON.parse(res.body).code, 'store_unavailable');
    }
    for (const [what, status] of answers) t.diagnostic(`${what}: ${status}`);
    assert.deepEqual(
      answers.filter(([, status]) => status !== 503),
      [],
      'every write answers 503 on a full disk',
    );

    // Reads need no room: cached and uncached identities are still admitted.
    assert.equal(
      (await fetch(`${gw.url}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    assert.equal((await signedIn.get('/app')).status, 200, 'the session was not ended: nothing was written');
    assert.equal((await adminCall('GET', '/users')).status, 200);

    const ready = await fetch(`${admin}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { code: string }).code, 'store_full');

    const config = join(tempDir(), 'cli.toml');
    writeFileSync(
      config,
      `[server]\n${gw.reach.server}data_dir = "${gw.dir}"\n[store]\nurl = "${gw.config.store.url}"\n`,
    );
    const run = await cli([
      'user',
      'add',
      'erin',
      '--email',
      'erin@example.com',
      '--no-password',
      '-c',
      config,
    ]);
    t.diagnostic(`CLI: exit ${run.code}: ${run.stderr.trim()}`);
    assert.equal(run.code, 2);
    assert.equal(run.stderr.trim().split('\n').length, 1, 'one line');
    assert.match(run.stderr, /^error: .*full/);

    // Room again: ready by itself, and the writes that failed now work.
    rmSync(filler);
    await until(async () => (await fetch(`${admin}/readyz`)).status === 200, {
      what: '/readyz 200 once there is room',
      timeoutMs: 5000,
    });
    assert.equal((await new BrowserClient(gw.url).signIn('alice', PASSWORD, '/')).status, 303);
    assert.equal(
      (await adminCall('POST', '/users', { username: 'dave', email: 'dave@example.com' })).status,
      201,
    );
  });
});
