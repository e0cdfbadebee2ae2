// The CLI's side of administration: every admin API action also has a command.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { cli } from '../helpers/cli.ts';
import { seesOtherInstance, startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';

describe('CLI administration', () => {
  let up: Upstream;
  let gw: TestGateway;
  let config: string;

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(`[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`);
    config = join(gw.dir, 'cli.toml');
    writeFileSync(
      config,
      `[server]\ndata_dir = "${gw.dir}"\n${gw.reach.server}[admin]\nlisten = ""\n${gw.reach.store}`,
    );
    await createUser(gw.store, {
      username: 'nora',
      email: 'nora@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
    rmSync(config, { force: true });
  });

  test('sessions: list, end one, end all of a user — refused on the next request', async () => {
    const a = new BrowserClient(gw.url);
    const b = new BrowserClient(gw.url, { 'user-agent': 'Other/1' });
    await a.signIn('nora', PASSWORD, '/');
    await b.signIn('nora', PASSWORD, '/');
    const list = await cli(['session', 'list', 'nora', '-c', config]);
    assert.equal(list.code, 0, list.stderr);
    const ids = [...list.stdout.matchAll(/^(ses_\S+)/gm)].map((m) => m[1] as string);
    assert.equal(ids.length, 2);
    const one = await cli(['session', 'end', ids[0] as string, '-c', config]);
    assert.equal(one.code, 0, one.stderr);
    await seesOtherInstance('one session ended', async () => {
      const statuses = [(await a.get('/x')).status, (await b.get('/x')).status].sort();
      return statuses.join() === '200,303';
    });
    assert.equal((await cli(['session', 'end', '--user', 'nora', '-c', config])).code, 0);
    await seesOtherInstance('both sessions ended', async () => (await a.get('/x')).status === 303);
    assert.equal((await b.get('/x')).status, 303);
    assert.equal((await cli(['session', 'end', 'ses_nope', '-c', config])).code, 1);
  });

  test('user email changes the address; user reset queues a reset mail; role and group lists', async () => {
    const email = await cli(['user', 'email', 'nora', 'Nora.New@Example.com', '-c', config]);
    assert.equal(email.code, 0, email.stderr);
    assert.equal((await gw.store.users.byUsername('nora'))?.email, 'nora.new@example.com');
    const bad = await cli(['user', 'email', 'nora', 'not-an-address', '-c', config]);
    assert.equal(bad.code, 1);
    const reset = await cli(['user', 'reset', 'nora', '-c', config]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /reset link for nora: queued/);
    assert.ok(!reset.stdout.includes('token='), 'the CLI never prints a link');
    assert.equal((await cli(['role', 'set', 'viewer', '--claims', 'app.read', '-c', config])).code, 0);
    assert.equal((await cli(['grant', 'nora', 'viewer', '-c', config])).code, 0);
    assert.equal((await cli(['group', 'add', 'staff', 'nora', '-c', config])).code, 0);
    const roles = await cli(['role', 'list', '-c', config]);
    assert.match(roles.stdout, /viewer\s+app\.read/);
    assert.match(roles.stdout, /viewer\s+nora\s+\(everywhere\)/);
    assert.match((await cli(['group', 'list', '-c', config])).stdout, /staff\s+nora/);
  });

  test('user mfa list shows the factors without secrets; user mfa reset removes them and the codes', async () => {
    const nora = await gw.store.users.byUsername('nora');
    assert.ok(nora);
    const now = Date.now();
    const app = await gw.store.secondFactors.create(
      { kind: 'totp', userId: nora.id, name: 'Work phone', sealedSecret: 'v1.sealed-secret' },
      now,
    );
    await gw.store.secondFactors.confirm(app.id, nora.id, now);
    await gw.store.secondFactors.replaceRecoveryCodes(nora.id, ['h1', 'h2', 'h3'], now);
    const list = await cli(['user', 'mfa', 'list', 'nora', '-c', config]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Work phone\s+authenticator app\s+active/);
    assert.doesNotMatch(list.stdout + list.stderr, /sealed-secret/);
    assert.match(list.stderr, /3 recovery code\(s\) left/);
    const reset = await cli(['user', 'mfa', 'reset', 'nora', '-c', config]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /removed 1 second factor\(s\) and the recovery codes of nora/);
    assert.deepEqual(await gw.store.secondFactors.listForUser(nora.id), []);
    assert.equal(await gw.store.secondFactors.recoveryCodesLeft(nora.id), 0);
    const wrong = await cli(['user', 'mfa', 'drop', 'nora', '-c', config]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /usage: hero-gateway user mfa list\|reset NAME/);
  });
});
