// The admin REST API: an authorization matrix over every endpoint, escalation attempts, and changes that
// apply to the very next proxied request.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import type { AdminDeps } from '../../src/http/admin/api/deps.ts';
import { adminEndpoints } from '../../src/http/admin/api/index.ts';
import type { User } from '../../src/ports/store.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
// The table itself (no store needed to list it): every endpoint the API has, with its claim.
const ENDPOINTS = adminEndpoints({} as AdminDeps).map((e) => ({
  method: e.method,
  path: e.path,
  claim: e.claim,
}));

describe('admin API', () => {
  let up: Upstream;
  let gw: TestGateway;
  let root: User;
  let plain: User;
  let victim: User; // what the matrix's admin calls act on (one of them deletes it)
  const tokens: Record<string, string> = {};
  let rootCookie = '';

  const api = async (
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ) => {
    const res = await gw.gateway.admin!.inject({
      method: method as 'GET',
      url: path,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) };
  };

  before(async () => {
    up = await startUpstream();
    gw = await startGateway(
      `[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n` +
        `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
      { admin: true },
    );
    const passwordHash = await hashPassword(PASSWORD);
    root = await createUser(gw.store, {
      username: 'root',
      email: 'root@example.com',
      emailVerified: true,
      admin: true,
      passwordHash,
    });
    plain = await createUser(gw.store, {
      username: 'plain',
      email: 'plain@example.com',
      emailVerified: true,
      passwordHash,
    });
    victim = await createUser(gw.store, {
      username: 'victim',
      email: 'victim@example.com',
      emailVerified: true,
    });
    const helper = await createUser(gw.store, {
      username: 'helper',
      email: 'helper@example.com',
      emailVerified: true,
    });
    await gw.store.authz.setRole('helpdesk', [
      'gateway.users.read',
      'gateway.users.write',
      'gateway.tokens.write',
    ]);
    await gw.store.authz.grant('helpdesk', { userId: helper.id }, '');
    const issue = async (user: User, claims: string[] | null = null) =>
      (
        await new ApiTokenService(gw.store, { now: () => Date.now() }).issue({
          userId: user.id,
          name: 't',
          claims,
          expiresAt: null,
        })
      ).token;
    tokens.admin = await issue(root);
    tokens.narrowed = await issue(root, ['gateway.users.read']);
    tokens.plain = await issue(plain);
    tokens.helper = await issue(helper);
    const b = new BrowserClient(gw.url);
    await b.signIn('root', PASSWORD, '/');
    rootCookie = b.cookieHeader();
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const concrete = (path: string) =>
    path
      .replace(':id', victim.id)
      .replace(':name', 'viewer')
      .replace(':group', 'staff')
      .replace(':user', 'victim');

  test(`authorization matrix over every endpoint (${ENDPOINTS.length})`, async () => {
    assert.ok(ENDPOINTS.length >= 20);
    for (const e of ENDPOINTS) {
      const path = `/api/v1${concrete(e.path)}`;
      const label = `${e.method} ${path}`;
      // Safe bodies: the matrix is about who may call, not what the call does.
      const body = e.method === 'GET' || e.method === 'DELETE' ? undefined : {};
      assert.equal((await api(e.method, path)).status, 401, `${label} anonymous`);
      assert.equal(
        (await api(e.method, path, undefined, body, { cookie: rootCookie })).status,
        401,
        `${label} admin's session cookie`,
      );
      assert.equal((await api(e.method, path, tokens.plain, body)).status, 403, `${label} plain user`);
      const narrowed = (await api(e.method, path, tokens.narrowed, body)).status;
      if (e.claim === 'gateway.users.read') assert.notEqual(narrowed, 403, `${label} narrowed to users.read`);
      else assert.equal(narrowed, 403, `${label} narrowed token keeps only users.read`);
      const admin = (await api(e.method, path, tokens.admin, body)).status;
      assert.ok(admin !== 401 && admin !== 403, `${label} admin: ${admin}`);
      // Spelling variants never reach a handler another way.
      for (const variant of [`${path}/`, path.toUpperCase(), path.replace('/api/v1', '/API/v1')]) {
        const anon = (await api(e.method, variant)).status;
        assert.ok(anon === 401 || anon === 404, `${e.method} ${variant} anonymous: ${anon}`);
        assert.ok(
          (await api(e.method, variant, tokens.plain, body)).status >= 400,
          `${e.method} ${variant} plain`,
        );
      }
      for (const method of ['HEAD', 'OPTIONS']) {
        const status = (await api(method, path)).status;
        assert.ok(status >= 400, `${method} ${path} anonymous: ${status}`);
      }
    }
  });

  test("second factors: listed without secrets; reset needs the account's claims, removes factors and codes", async () => {
    const now = Date.now();
    for (const u of [plain, root]) {
      const app = await gw.store.secondFactors.create(
        { kind: 'totp', userId: u.id, name: 'Phone', sealedSecret: 'v1.sealed-secret' },
        now,
      );
      await gw.store.secondFactors.confirm(app.id, u.id, now);
      await gw.store.secondFactors.replaceRecoveryCodes(u.id, ['h1', 'h2'], now);
    }
    const listed = await api('GET', `/api/v1/users/${plain.id}/second-factors`, tokens.helper);
    assert.equal(listed.status, 200);
    assert.doesNotMatch(listed.body, /sealed-secret/);
    assert.deepEqual(
      listed
        .json()
        .second_factors.map((f: { kind: string; name: string; confirmed: boolean }) => [
          f.kind,
          f.name,
          f.confirmed,
        ]),
      [['totp', 'Phone', true]],
    );
    assert.equal(listed.json().recovery_codes_left, 2);
    // The helpdesk may change plain accounts, not an administrator's.
    assert.equal((await api('DELETE', `/api/v1/users/${root.id}/second-factors`, tokens.helper)).status, 403);
    assert.equal((await gw.store.secondFactors.listForUser(root.id)).length, 1);
    const reset = await api('DELETE', `/api/v1/users/${plain.id}/second-factors`, tokens.helper);
    assert.equal(reset.status, 200);
    assert.deepEqual(reset.json(), { removed: 1 });
    assert.deepEqual(await gw.store.secondFactors.listForUser(plain.id), []);
    assert.equal(await gw.store.secondFactors.recoveryCodesLeft(plain.id), 0);
    assert.equal((await api('DELETE', '/api/v1/users/usr_none/second-factors', tokens.admin)).status, 404);
    await gw.store.secondFactors.removeAllForUser(root.id);
  });

  test('nobody grants themselves what they do not hold', async () => {
    assert.equal(
      (await api('POST', '/api/v1/grants', tokens.helper, { role: 'admin', user: 'helper' })).status,
      403,
    );
    await gw.store.authz.grant('admin', { group: 'ops' }, '');
    assert.equal((await api('PUT', '/api/v1/groups/ops/members/helper', tokens.helper)).status, 403);
    assert.equal(
      (await api('POST', '/api/v1/tokens', tokens.helper, { user: 'root', name: 'x' })).status,
      403,
    );
    assert.equal(
      (
        await api('POST', '/api/v1/users', tokens.helper, {
          username: 'x2',
          email: 'x2@example.com',
          admin: true,
        })
      ).status,
      403,
    );
    assert.equal(
      (await api('PUT', '/api/v1/roles/helpdesk', tokens.helper, { claims: ['gateway.admin'] })).status,
      403,
    );
    // Taking an admin out of the group that makes them admin would bring them within reach: refused.
    const boss = await createUser(gw.store, {
      username: 'boss',
      email: 'boss@example.com',
      emailVerified: true,
    });
    await gw.store.authz.addMember('ops', boss.id);
    assert.equal((await api('DELETE', '/api/v1/groups/ops/members/boss', tokens.helper)).status, 403);
    const bossSession = await new BrowserClient(gw.url).signIn('root', PASSWORD, '/');
    assert.equal(bossSession.status, 303);
    const rootSessions = (await api('GET', `/api/v1/users/${root.id}/sessions`, tokens.helper)).json()
      .sessions;
    assert.equal((await api('DELETE', `/api/v1/sessions/${rootSessions[0].id}`, tokens.helper)).status, 403);
    const huge = await api('POST', '/api/v1/tokens', tokens.helper, {
      name: 'forever',
      expires_in: '999999999d',
    });
    assert.equal(huge.status, 400);
    // Helpdesk may manage plain users, but not take over an account more powerful than its own.
    assert.equal(
      (
        await api('POST', `/api/v1/users/${root.id}/password`, tokens.helper, {
          password: 'a takeover passphrase',
        })
      ).status,
      403,
    );
    assert.equal(
      (await api('PATCH', `/api/v1/users/${root.id}`, tokens.helper, { email: 'mine@evil.example' })).status,
      403,
    );
    assert.equal((await api('POST', `/api/v1/users/${root.id}/reset-mail`, tokens.helper)).status, 403);
    assert.equal((await api('DELETE', `/api/v1/users/${root.id}`, tokens.helper)).status, 403);
    assert.equal((await api('PATCH', `/api/v1/users/${plain.id}`, tokens.helper, {})).status, 200);
    assert.equal(
      (await api('PATCH', `/api/v1/users/${root.id}`, tokens.helper, {})).status,
      403,
      'an empty change is still a change to an account out of reach',
    );
    const own = await api('POST', '/api/v1/tokens', tokens.helper, { name: 'mine' });
    assert.equal(own.status, 201);
    // Made with its maker's whole authority, it follows its maker: what helper holds, never more.
    assert.equal(own.json().claims, null);
    assert.equal(
      (await api('PUT', '/api/v1/roles/mine', own.json().token, { claims: ['gateway.admin'] })).status,
      403,
    );
  });

  test('a narrowed token mints nothing broader than itself', async () => {
    const helper = (await gw.store.users.byUsername('helper'))!;
    const { token: narrow } = await new ApiTokenService(gw.store, { now: () => Date.now() }).issue({
      userId: helper.id,
      name: 'narrow',
      claims: ['gateway.tokens.write'],
      expiresAt: null,
    });
    const more = await api('POST', '/api/v1/tokens', narrow, {
      name: 'more',
      claims: ['gateway.users.write'],
    });
    assert.equal(more.status, 403, 'a claim the minting token does not carry');
    const same = await api('POST', '/api/v1/tokens', narrow, { name: 'same' });
    assert.equal(same.status, 201);
    assert.deepEqual(
      same.json().claims,
      ['gateway.tokens.write'],
      'frozen to what the minting token carries',
    );
  });

  test('answers never carry hashes or tokens (except the one create response)', async () => {
    const created = await api('POST', '/api/v1/tokens', tokens.admin, {
      user: 'plain',
      name: 'ci',
      expires_in: '30d',
    });
    assert.equal(created.status, 201);
    const token = created.json().token as string;
    assert.match(token, /^hgw_/);
    for (const path of [
      '/api/v1/users',
      `/api/v1/users/${plain.id}`,
      '/api/v1/tokens',
      `/api/v1/users/${plain.id}/sessions`,
    ]) {
      const body = (await api('GET', path, tokens.admin)).body;
      assert.ok(!body.includes(token), path);
      assert.doesNotMatch(body, /argon2|hash|secret/i, path);
    }
  });

  test('every change applies to the next proxied request', async () => {
    const created = await api('POST', '/api/v1/tokens', tokens.admin, { user: 'plain', name: 'live' });
    const token = created.json().token as string;
    const call = () => send(`${gw.url}/api/x`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await call()).status, 200);
    await api('PUT', '/api/v1/roles/viewer', tokens.admin, { claims: ['wiki.read'] });
    await api('POST', '/api/v1/grants', tokens.admin, { role: 'viewer', user: 'plain', context: 'api' });
    await call();
    assert.equal(up.seen.at(-1)?.headers['x-hero-claims'], 'wiki.read');
    await api('DELETE', '/api/v1/grants', tokens.admin, { role: 'viewer', user: 'plain', context: 'api' });
    await call();
    assert.equal(up.seen.at(-1)?.headers['x-hero-claims'], '');
    assert.equal((await api('DELETE', `/api/v1/tokens/${created.json().id}`, tokens.admin)).status, 204);
    assert.equal((await call()).status, 401);

    const b = new BrowserClient(gw.url);
    await b.signIn('plain', PASSWORD, '/');
    assert.equal((await b.get('/x')).status, 200);
    assert.equal((await api('DELETE', `/api/v1/users/${plain.id}/sessions`, tokens.admin)).json().ended, 1);
    assert.equal((await b.get('/x')).status, 303);
    await b.signIn('plain', PASSWORD, '/');
    assert.equal(
      (await api('PATCH', `/api/v1/users/${plain.id}`, tokens.admin, { disabled: true })).status,
      200,
    );
    assert.equal((await b.get('/x')).status, 303);
    await api('PATCH', `/api/v1/users/${plain.id}`, tokens.admin, { disabled: false });
  });

  test('the OpenAPI document lists every endpoint with its claim', async () => {
    const doc = (await api('GET', '/api/v1/openapi.json', tokens.plain)).json();
    assert.equal(doc.openapi, '3.1.0');
    for (const e of ENDPOINTS) {
      const op = doc.paths[`/api/v1${e.path.replace(/:(\w+)/g, '{$1}')}`]?.[e.method.toLowerCase()];
      assert.equal(op?.['x-required-claim'], e.claim, `${e.method} ${e.path}`);
    }
  });
});

describe('config reload through the admin API', () => {
  test('a good file swaps in at once; a bad one keeps the running config and lists every problem', async () => {
    const up = await startUpstream();
    const route = (name: string, path: string) =>
      `[[route]]\nname = "${name}"\npath = "${path}"\nupstream = "${up.url}"\nauth = "none"\n`;
    const gw = await startGateway(route('one', '/one'), { admin: true });
    try {
      const root = await createUser(gw.store, {
        username: 'root',
        email: 'root@example.com',
        emailVerified: true,
        admin: true,
      });
      const { token } = await new ApiTokenService(gw.store, { now: () => Date.now() }).issue({
        userId: root.id,
        name: 't',
        claims: null,
        expiresAt: null,
      });
      const reload = () =>
        gw.gateway.admin!.inject({
          method: 'POST',
          url: '/api/v1/config/reload',
          headers: { authorization: `Bearer ${token}` },
        });
      assert.equal((await send(`${gw.url}/two/x`)).status, 404);
      const text = readFileSync(gw.file, 'utf8');
      writeFileSync(gw.file, text + route('two', '/two'));
      const ok = await reload();
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { reloaded: true, restart_needed: [] });
      assert.equal((await send(`${gw.url}/two/x`)).status, 200, 'the new route answers at once');
      writeFileSync(gw.file, `${text + route('two', 'two')}bogus = 1\n`);
      writeFileSync(
        gw.file,
        `${readFileSync(gw.file, 'utf8')}[mail]\nsmtp_url = "smtpx://u:S3cretSmtpPw@mail.example.com"\n`,
      );
      const leaky = await reload();
      assert.equal(leaky.statusCode, 422);
      assert.ok(!leaky.body.includes('S3cretSmtpPw'), leaky.body);
      writeFileSync(gw.file, `${text + route('two', 'two')}bogus = 1\n`);
      const bad = await reload();
      assert.equal(bad.statusCode, 422);
      assert.deepEqual(
        bad.json().problems.sort(),
        ['route[1].bogus: unknown key', 'route[1].path: must start with "/" but is "two"'].sort(),
      );
      assert.equal((await send(`${gw.url}/two/x`)).status, 200, 'the running config stays');
      const metrics = (await gw.gateway.admin!.inject('/metrics')).body;
      assert.match(metrics, /hero_config_reloads_total\{result="ok"\} 1/);
      assert.match(metrics, /hero_config_reloads_total\{result="failed"\} 2/);
      // The admin listener's Host list is bound when it starts: a reload says so instead of pretending.
      writeFileSync(
        gw.file,
        text.replace(/^\[admin\]\n(listen = .*)$/m, '[admin]\n$1\nhosts = ["gw-admin.internal"]'),
      );
      assert.deepEqual((await reload()).json(), { reloaded: true, restart_needed: ['admin.hosts'] });
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
