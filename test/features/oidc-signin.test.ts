// Sign-in through a real OpenID provider (npm oidc-provider on a local port): the whole round trip, what the
// app receives, accounts and groups.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const pathOf = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

describe('OpenID Connect sign-in', () => {
  let idp: TestIdp;
  let up: Upstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    up = await startUpstream();
    gw = await startGateway(`
[[oidc]]
id = "idp"
name = "Test IdP"
issuer = "${idp.issuer}"
client_id = "hero-gateway"
client_secret = "a-test-client-secret-of-some-length"
scopes = ["openid", "email", "profile", "groups"]
groups_claim = "groups"
auto_provision = true

[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "oauth"
`);
    await idp.configure([gatewayClient(gw.url, 'idp')]);
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
});
