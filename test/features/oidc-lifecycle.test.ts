// Identity providers over time: one that is down when the gateway starts (and comes back), logout at the
// provider reaching the gateway on the back channel, and logout at the gateway ending the provider's session.
// Against real OpenID providers.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, send } from '../helpers/browser-client.ts';
import { freePort } from '../helpers/cli.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, pathOf, providerToml, startIdp, type TestIdp } from '../helpers/idp.ts';
import { until as untilTruthy } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 5000) =>
  untilTruthy(probe, { what, timeoutMs: ms });

describe('OpenID Connect over time', () => {
  let idp: TestIdp;
  let late: TestIdp | null = null;
  let latePort: number;
  let up: Upstream;
  let gw: TestGateway;

  const provider = (id: string, issuer: string) =>
    `${providerToml(id, id === 'idp' ? 'Main IdP' : 'Late IdP', issuer)}auto_provision = true\n`;

  before(async () => {
    // The late provider's issuer must be in the gateway's config before anything listens there, and nothing
    // may listen there at first (that is the point): a port probed free is unavoidable here.
    [idp, up, latePort] = await Promise.all([startIdp(), startUpstream(), freePort()]);
    gw = await startGateway(
      `
${provider('idp', idp.issuer)}
${provider('late', `http://127.0.0.1:${latePort}`)}
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = ["local", "oauth"]
`,
      { oidc: { retry: { firstMs: 50, maxMs: 200 } } },
    );
    await idp.configure([gatewayClient(gw.url, 'idp')]);
    idp.accounts.set('bo-sub', { email: 'bo@example.com', email_verified: true, preferred_username: 'bo' });
  });
  after(async () => {
    await gw.close();
    await Promise.all([up.close(), idp.close(), late?.close()]);
  });

  async function signInVia(b: BrowserClient, person: IdpUser, provider = 'idp', account = 'bo-sub') {
    const res = await b.get(`/auth/oauth/${provider}/start?return_to=%2Fapp`);
    assert.equal(res.status, 303, res.body);
    const done = await b.get(pathOf(await person.authorize(res.location as string, account)));
    assert.equal(done.status, 303, done.body);
  }

  test('a provider that is down at start: the gateway serves, says so, answers 503, and uses it once it is back', async () => {
    const b = new BrowserClient(gw.url);
    const login = await until('the late provider marked unavailable', async () => {
      const page = await b.get('/auth/login');
      return /Late IdP \(unavailable right now\)/.test(page.body) && page;
    });
    assert.match(login.body, /<span class="button secondary" aria-disabled="true">Sign in with Late IdP/);
    assert.match(
      login.body,
      /<a class="button secondary" href="\/auth\/oauth\/idp\/start">Sign in with Main IdP<\/a>/,
    );
    const start = await b.get('/auth/oauth/late/start?return_to=%2Fapp');
    assert.equal(start.status, 503);
    assert.match(start.body, /This identity provider cannot be reached right now/);
    const json = await b.get('/auth/oauth/late/start', { accept: 'application/json' });
    assert.equal(JSON.parse(json.body).code, 'oidc_unavailable');

    // Everything else works meanwhile: the other provider, and passwords.
    await signInVia(b, new IdpUser(idp.issuer));
    assert.equal((await b.get('/app')).status, 200);
    await createUser(gw.store, {
      username: 'pw',
      email: 'pw@example.com',
      emailVerified: true,
      passwordHash: await hashPassword('a password of some length'),
    });
    assert.equal(
      (await new BrowserClient(gw.url).signIn('pw', 'a password of some length', '/app')).status,
      303,
    );

    // The provider comes up; no restart.
    late = await startIdp({ port: latePort });
    await late.configure([gatewayClient(gw.url, 'late')]);
    late.accounts.set('kim-sub', {
      email: 'kim@example.com',
      email_verified: true,
      preferred_username: 'kim',
    });
    await until(
      'the late provider usable',
      async () => (await b.get('/auth/oauth/late/start')).status === 303,
    );
    const k = new BrowserClient(gw.url);
    await signInVia(k, new IdpUser(late.issuer), 'late', 'kim-sub');
    assert.equal((await k.get('/app')).status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-auth-method'], 'oidc:late');
    assert.doesNotMatch((await b.get('/auth/login')).body, /unavailable right now/);
  });

  test('logout at the provider ends the gateway session through the back channel', async () => {
    const person = new IdpUser(idp.issuer);
    const b = new BrowserClient(gw.url);
    await signInVia(b, person);
    const bystander = new BrowserClient(gw.url);
    await signInVia(bystander, new IdpUser(idp.issuer)); // the same account, another provider session
    assert.equal((await b.get('/app')).status, 200);
    const calls = idp.backchannel.length;
    await person.logoutAtProvider();
    assert.deepEqual(idp.backchannel.slice(calls), ['ok'], 'the provider called the gateway, which accepted');
    assert.equal((await b.get('/app')).status, 303, 'signed out here too');
    assert.equal((await bystander.get('/app')).status, 200, 'only the provider session that ended (its sid)');
  });

  test('logout tokens: forged, foreign, replayed or not logout tokens are refused; none needs a form token', async () => {
    const b = new BrowserClient(gw.url);
    await signInVia(b, new IdpUser(idp.issuer));
    const url = `${gw.url}/auth/oauth/idp/backchannel-logout`;
    const post = (body: string) =>
      send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: idp.issuer,
      aud: 'hero-gateway',
      iat: now,
      exp: now + 120,
      jti: `jti-${now}`,
      sub: 'bo-sub',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    };
    const code = async (body: string) => {
      const res = await post(body);
      return res.status === 200 ? 'ok' : `${res.status} ${JSON.parse(res.body).code}`;
    };
    assert.equal(await code(''), '400 invalid_input');
    assert.equal(await code('logout_token=not-a-jwt'), '400 oidc_response_invalid');
    const other = await startIdp();
    await other.configure([]);
    const forged = await other.sign({ ...claims, iss: idp.issuer }); // the same kid, another key
    assert.equal(await code(`logout_token=${forged}`), '400 oidc_response_invalid');
    await other.close();
    for (const wrong of [
      { aud: 'someone-else' },
      { iss: 'http://127.0.0.1:1' },
      { events: undefined },
      { nonce: 'an-id-token-has-one' },
      { sub: undefined },
      { iat: now - 3600, exp: now + 60 },
    ])
      assert.equal(
        await code(`logout_token=${await idp.sign({ ...claims, ...wrong, jti: `j-${Math.random()}` })}`),
        '400 oidc_response_invalid',
        JSON.stringify(wrong),
      );
    assert.equal(await code(`logout_token=${await idp.sign(claims, 'JWT+id')}`), '400 oidc_response_invalid');
    assert.equal((await b.get('/app')).status, 200, 'nothing refused ended a session');

    const good = await idp.sign(claims);
    assert.equal(await code(`logout_token=${good}`), 'ok');
    assert.equal((await b.get('/app')).status, 303, 'every session of the subject ended');
    assert.equal(await code(`logout_token=${good}`), '400 oidc_response_invalid', 'a token works once');
    assert.equal((await post(`logout_token=${good}`)).headers['cache-control'], 'no-store');
  });

  test('logout at the gateway also ends the session at the provider', async () => {
    const person = new IdpUser(idp.issuer);
    const b = new BrowserClient(gw.url);
    await signInVia(b, person);
    assert.equal(person.askedToSignIn, true);
    const confirm = await b.get('/auth/logout');
    assert.match(
      confirm.headers['content-security-policy'] as string,
      new RegExp(`form-action 'self' ${idp.issuer}`),
    );
    const out = await b.submit('/auth/logout', '/auth/logout', {});
    assert.equal(out.status, 303);
    const to = new URL(out.location as string);
    assert.equal(to.origin, idp.issuer);
    assert.equal(to.searchParams.get('post_logout_redirect_uri'), `${gw.url}/auth/login?done=logout`);
    assert.match(to.searchParams.get('id_token_hint') ?? '', /^eyJ/);
    assert.equal((await b.get('/app')).status, 303, 'the gateway session ended first');

    const landed = await person.follow(to.href);
    assert.equal(landed, `${gw.url}/auth/login?done=logout`);
    assert.match(
      (await b.get(pathOf(landed))).body,
      /You are signed out, here and at your identity provider\./,
    );
    await signInVia(b, person);
    assert.equal(person.askedToSignIn, true, 'the provider asks again: its session ended too');

    // A password session has no provider to tell: the plain signed-out page.
    const p = new BrowserClient(gw.url);
    await p.signIn('pw', 'a password of some length', '/app');
    const plain = await p.submit('/auth/logout', '/auth/logout', {});
    assert.equal(plain.status, 200);
    assert.match(plain.body, /You are signed out\./);
  });

  test('a config reload adds and removes providers without touching the others', async () => {
    const before = readFileSync(gw.file, 'utf8');
    writeFileSync(gw.file, `${before}\n${providerToml('extra', 'Extra IdP', idp.issuer)}`);
    assert.equal(gw.gateway.reload().ok, true);
    const b = new BrowserClient(gw.url);
    assert.match((await b.get('/auth/login')).body, /Sign in with Extra IdP/);
    const start = await b.get('/auth/oauth/extra/start');
    assert.equal(start.status, 303, start.body);
    assert.equal(new URL(start.location as string).origin, idp.issuer);
    writeFileSync(gw.file, before);
    assert.equal(gw.gateway.reload().ok, true);
    assert.doesNotMatch((await b.get('/auth/login')).body, /Extra IdP/);
    assert.equal((await b.get('/auth/oauth/extra/start')).status, 404);
    assert.equal((await b.get('/auth/oauth/idp/start')).status, 303, 'the others keep working');
  });
});
