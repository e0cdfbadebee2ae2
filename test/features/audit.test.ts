// The audit log: JSON lines for security events from the server and the CLI, never a secret, and never a
// reason for a request to fail.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'another quite long passphrase';

describe('audit log', () => {
  let up: Upstream;
  let gw: TestGateway;
  const route = () => `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(route());
    await createUser(gw.store, {
      username: 'kate',
      email: 'kate@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const events = async () => {
    await gw.gateway.auditFlushed();
    const text = readFileSync(join(gw.dir, 'audit.log'), 'utf8');
    return {
      text,
      list: text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    };
  };

  test('sign-in, failure, password change and logout are recorded; no password, token or cookie is', async () => {
    const b = new BrowserClient(gw.url);
    assert.equal((await b.signIn('kate', 'not the password at all')).status, 401);
    assert.equal((await b.signIn('kate', PASSWORD, '/')).status, 303);
    const change = await b.submit('/auth/account', '/auth/account/password', {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    assert.equal(change.status, 303);
    const cookies = [...b.jar.values()];
    await b.submit('/auth/logout', '/auth/logout', {});
    const { text, list } = await events();
    assert.deepEqual(
      list.map((e) => e.action),
      ['login.failure', 'login.success', 'password.change', 'logout'],
    );
    const failure = list[0];
    assert.equal(failure.target, 'kate');
    assert.equal(failure.actor, null);
    assert.equal(failure.ip, '127.0.0.1');
    assert.match(failure.at, /^\d{4}-\d\d-\d\dT/);
    assert.equal(list[1].actor, 'kate');
    for (const secret of [PASSWORD, NEW_PASSWORD, 'not the password at all', ...cookies])
      assert.ok(!text.includes(secret), `the log holds no secret (${secret.slice(0, 6)}…)`);
  });

  test('CLI changes are recorded with the operator who made them', async () => {
    const config = join(gw.dir, 'cli.toml');
    writeFileSync(config, `[server]\ndata_dir = "${gw.dir}"\n[admin]\nlisten = ""\n${route()}`);
    const created = await cli(['token', 'create', '--user', 'kate', '--name', 'ci', '-c', config]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const id = /created (tok_[A-Za-z0-9_-]+)/.exec(created.stderr)?.[1] as string;
    assert.equal((await cli(['token', 'revoke', id, '-c', config])).code, 0);
    assert.equal((await cli(['role', 'set', 'editor', '--claims', 'wiki.write', '-c', config])).code, 0);
    assert.equal((await cli(['grant', 'kate', 'editor', '--context', 'wiki', '-c', config])).code, 0);
    assert.equal((await cli(['user', 'disable', 'kate', '-c', config])).code, 0);
    const { text, list } = await events();
    const tail = list.slice(-5);
    assert.deepEqual(
      tail.map((e) => e.action),
      ['token.create', 'token.revoke', 'role.set', 'grant.add', 'user.disable'],
    );
    for (const e of tail) assert.match(e.actor, /^cli/);
    assert.equal(tail[0].target, id);
    assert.equal(tail[3].target, 'kate');
    assert.deepEqual(tail[3].detail, { role: 'editor', context: 'wiki' });
    assert.ok(!text.includes(token), 'the API token itself is never written');
  });

  test('an audit log that cannot be written never fails a request', async () => {
    const blocker = join(gw.dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const broken = await startGateway(`[store]\nurl = "${gw.config.store.url}"\n${route()}`, {
      server: `audit_log = "${join(blocker, 'audit.log')}"`,
    });
    try {
      await gw.store.users.setDisabled((await gw.store.users.byUsername('kate'))!.id, null);
      const b = new BrowserClient(broken.url);
      assert.equal((await b.signIn('kate', 'wrong wrong wrong')).status, 401);
      assert.equal((await b.signIn('kate', NEW_PASSWORD, '/')).status, 303);
      assert.equal((await b.get('/x')).status, 200);
      await broken.gateway.auditFlushed();
    } finally {
      await broken.close();
    }
  });
});
