// Sign-in through a real OpenID provider (npm oidc-provider on a local port): the whole round trip, what the
// app receives, accounts and groups.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureSecret } from '../../src/config/secret.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { Sealer } from '../../src/crypto/sealed.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, pathOf, providerToml, startIdp, type TestIdp } from '../helpers/idp.ts';
import { storeRows } from '../helpers/store-sql.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

describe('OpenID Connect sign-in', () => {
  let idp: TestIdp;
  let up: Upstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    up = await startUpstream();
    gw = await startGateway(
      `
[forward_auth]
headers = "traefik"

${providerToml('idp', 'Test IdP', idp.issuer)}scopes = ["openid", "email", "profile", "groups"]
groups_claim = "groups"
auto_provision = true

${providerToml('second', 'Second IdP', idp.issuer)}
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "oauth"
oidc = ["idp"]

[[route]]
name = "mixed"
path = "/mixed"
upstream = "${up.url}"
auth = ["local", "oauth"]

[[route]]
name = "second-only"
path = "/second"
upstream = "${up.url}"
auth = "oauth"
oidc = ["second"]
`,
      { server: 'trusted_proxies = ["127.0.0.1/32"]' },
    );
    const client = gatewayClient(gw.url, 'idp');
    await idp.configure([
      { ...client, redirect_uris: [...(client.redirect_uris ?? []), `${gw.url}/auth/oauth/second/callback`] },
    ]);
    idp.accounts.set('ada-sub', {
      email: 'Ada@Example.com',
      email_verified: true,
      preferred_username: 'ada',
      groups: ['engineers', 'not a valid group!'],
    });
    await gw.store.authz.setRole('reader', ['wiki.read']);
    await gw.store.authz.grant('reader', { group: 'engineers' }, '');
  });
  after(async () => {
    await gw.close();
    await up.close();
    await idp.close();
  });

  test('a browser goes straight to the only provider, signs in there, and the app sees who it is', async () => {
    const b = new BrowserClient(gw.url);
    const first = await b.get('/app/page?x=1');
    assert.equal(first.status, 303);
    assert.equal(
      first.location,
      `${gw.url}/auth/oauth/idp/start?return_to=${encodeURIComponent('/app/page?x=1')}`,
    );
    const start = await b.get(pathOf(first.location as string));
    assert.equal(start.status, 303);
    const auth = new URL(start.location as string);
    assert.equal(auth.origin, idp.issuer);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('redirect_uri'), `${gw.url}/auth/oauth/idp/callback`);
    assert.ok((auth.searchParams.get('state') ?? '').length >= 43, 'state of 256 bits');
    assert.ok((auth.searchParams.get('nonce') ?? '').length >= 43, 'nonce of 256 bits');

    const back = await new IdpUser(idp.issuer).authorize(auth.href, 'ada-sub');
    const done = await b.get(pathOf(back));
    assert.equal(done.status, 303, done.body);
    assert.equal(done.location, '/app/page?x=1');

    const page = await b.get('/app/page?x=1');
    assert.equal(page.status, 200);
    const seen = up.seen.at(-1);
    assert.equal(seen?.headers['x-hero-user'], 'ada');
    assert.equal(seen?.headers['x-hero-email'], 'ada@example.com');
    assert.equal(seen?.headers['x-hero-auth-method'], 'oidc:idp');
    assert.equal(seen?.headers['x-hero-claims'], 'wiki.read');
    assert.deepEqual(await gw.store.authz.groupsOf((await gw.store.users.byUsername('ada'))?.id as string), [
      'engineers',
    ]);
  });

  /** Signs `account` in through provider `id` in browser `b`, starting at `start` (a path on the gateway). */
  async function signInVia(b: BrowserClient, account: string, start = '/auth/oauth/idp/start') {
    const res = await b.get(start);
    assert.equal(res.status, 303, res.body);
    const back = await new IdpUser(idp.issuer).authorize(res.location as string, account);
    return b.get(pathOf(back));
  }

  test('the login page offers one button per provider, by name; a provider-only app offers only its own', async () => {
    const b = new BrowserClient(gw.url);
    const page = await b.get('/auth/login?return_to=%2Fmixed');
    assert.match(page.body, /name="password"/);
    assert.match(
      page.body,
      /<a class="button secondary" href="\/auth\/oauth\/idp\/start\?return_to=%2Fmixed">Sign in with Test IdP<\/a>/,
    );
    assert.match(
      page.body,
      /href="\/auth\/oauth\/second\/start\?return_to=%2Fmixed">Sign in with Second IdP</,
    );
    const only = await b.get('/auth/login?return_to=%2Fsecond%2Fx');
    assert.doesNotMatch(only.body, /name="password"/, 'a password would not open this app');
    assert.doesNotMatch(only.body, /Test IdP/);
    assert.match(only.body, /Sign in with Second IdP/);
  });

  test('several tabs signing in at once all succeed', async () => {
    const b = new BrowserClient(gw.url);
    const tabs = await Promise.all(
      ['/app/one', '/app/two', '/app/three'].map((p) =>
        b.get(`/auth/oauth/idp/start?return_to=${encodeURIComponent(p)}`),
      ),
    );
    const person = new IdpUser(idp.issuer);
    const backs = [];
    for (const t of tabs) backs.push(await person.authorize(t.location as string, 'ada-sub'));
    // Finished in another order than begun.
    for (const i of [2, 0, 1]) {
      const done = await b.get(pathOf(backs[i] as string));
      assert.equal(done.status, 303, done.body);
      assert.equal(done.location, ['/app/one', '/app/two', '/app/three'][i]);
    }
  });

  test('return_to is validated when the attempt begins and again on return', async () => {
    const b = new BrowserClient(gw.url);
    const done = await signInVia(
      b,
      'ada-sub',
      `/auth/oauth/idp/start?return_to=${encodeURIComponent('https://evil.example/x')}`,
    );
    assert.equal(done.status, 303);
    assert.equal(done.location, '/');
    const none = await signInVia(new BrowserClient(gw.url), 'ada-sub');
    assert.equal(none.location, '/auth/account', 'nothing asked for: the account page');
  });

  test('the provider’s tokens are kept sealed with the session and never reach the app', async () => {
    const b = new BrowserClient(gw.url);
    await signInVia(b, 'ada-sub');
    const [row] = await storeRows<{ oidc_provider: string; oidc_subject: string; oidc_tokens: string }>(
      gw.config.store.url,
      "SELECT oidc_provider, oidc_subject, oidc_tokens FROM sessions WHERE auth_method = 'oidc:idp' ORDER BY created_at DESC LIMIT 1",
    );
    assert.ok(row);
    assert.equal(row.oidc_provider, 'idp');
    assert.equal(row.oidc_subject, 'ada-sub');
    assert.doesNotMatch(row.oidc_tokens, /eyJ/, 'no JWT in the clear');
    const opened = new Sealer(ensureSecret(gw.config).secret, 'oidc-tokens').open(row.oidc_tokens) as {
      id_token: string;
    };
    assert.match(opened.id_token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    up.seen.length = 0;
    await b.get('/app/x', { authorization: 'Basic eA==' });
    const seen = JSON.stringify(up.seen);
    assert.ok(
      up.seen.length === 1 && !seen.includes(opened.id_token.slice(0, 40)),
      'the ID token is not forwarded',
    );
    assert.doesNotMatch(seen, /hero_oidc|hero_session/, 'nor the gateway cookies');
  });

  test('groups are refreshed at every sign-in, and claims follow', async () => {
    const b = new BrowserClient(gw.url);
    idp.accounts.set('grace-sub', {
      email: 'grace@example.com',
      email_verified: true,
      groups: ['engineers'],
    });
    await signInVia(b, 'grace-sub');
    await b.get('/app/g');
    assert.equal(up.seen.at(-1)?.headers['x-hero-user'], 'grace');
    assert.equal(up.seen.at(-1)?.headers['x-hero-claims'], 'wiki.read');
    idp.accounts.set('grace-sub', {
      email: 'grace@example.com',
      email_verified: true,
      groups: ['designers'],
    });
    await signInVia(b, 'grace-sub');
    await b.get('/app/g');
    assert.equal(up.seen.at(-1)?.headers['x-hero-claims'], '', 'no longer an engineer');
    const grace = await gw.store.users.byUsername('grace');
    assert.deepEqual(await gw.store.authz.groupsOf(grace?.id as string), ['designers']);
  });

  test('a route accepts only sessions from its providers; a password session is not an oauth session', async () => {
    const b = new BrowserClient(gw.url);
    await signInVia(b, 'ada-sub');
    assert.equal((await b.get('/app/a')).status, 200);
    assert.equal((await b.get('/mixed/a')).status, 200, 'local accepts any gateway session');
    const second = await b.get('/second/a');
    assert.equal(second.status, 303);
    assert.equal(second.location, `${gw.url}/auth/oauth/second/start?return_to=%2Fsecond%2Fa`);
    // The sign-in page does not bounce this session back to an app that refuses it (no redirect loop).
    const login = await b.get('/auth/login?return_to=%2Fsecond%2Fa');
    assert.equal(login.status, 200);
    assert.match(login.body, /Sign in with Second IdP/);

    await createUser(gw.store, {
      username: 'pat',
      email: 'pat@example.com',
      emailVerified: true,
      passwordHash: await hashPassword('a password of some length'),
    });
    const p = new BrowserClient(gw.url);
    assert.equal((await p.signIn('pat', 'a password of some length', '/mixed')).status, 303);
    assert.equal((await p.get('/mixed/a')).status, 200);
    assert.equal((await p.get('/app/a')).status, 303, 'the oauth route wants a provider');
  });

  test('a disabled user cannot sign in through a provider either', async () => {
    idp.accounts.set('dan-sub', { email: 'dan@example.com', email_verified: true });
    await signInVia(new BrowserClient(gw.url), 'dan-sub');
    const dan = await gw.store.users.byUsername('dan');
    await gw.store.users.setDisabled(dan?.id as string, Date.now());
    const b = new BrowserClient(gw.url);
    const res = await signInVia(b, 'dan-sub');
    assert.equal(res.status, 403);
    assert.match(res.body, /This account is disabled/);
    assert.equal((await b.get('/app/x')).status, 303);
  });

  test('forward-auth: a browser is sent straight to the provider, a provider session passes with its method', async () => {
    const ask = (b: BrowserClient, uri: string) =>
      b.get('/auth/forward', {
        'x-forwarded-method': 'GET',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'apps.example.com',
        'x-forwarded-uri': uri,
      });
    const b = new BrowserClient(gw.url);
    const out = await ask(b, '/app/f?q=1');
    assert.equal(out.status, 303);
    assert.equal(out.location, 'https://apps.example.com/auth/oauth/idp/start?return_to=%2Fapp%2Ff%3Fq%3D1');
    await signInVia(b, 'ada-sub');
    const ok = await ask(b, '/app/f');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-hero-user'], 'ada');
    assert.equal(ok.headers['x-hero-auth-method'], 'oidc:idp');
    assert.equal((await ask(b, '/second/f')).status, 303, 'not a session of that route’s provider');
  });
});
