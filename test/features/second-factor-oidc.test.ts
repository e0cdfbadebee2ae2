// Second factors and identity providers, against a real OpenID provider: a provider's own second factor counts
// for `mfa = true` only when the provider is trusted for it (`trust_mfa`) and its ID token's `amr` says so;
// otherwise, and for users who enrolled a factor here, the gateway's own challenge follows the provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { BrowserClient, csrfIn } from '../helpers/browser-client.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, pathOf, providerToml, startIdp, type TestIdp } from '../helpers/idp.ts';
import { codeAt, factorIdIn, secretIn } from '../helpers/totp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

describe('second factor with identity providers', () => {
  let idp: TestIdp;
  let up: Upstream;
  let gw: TestGateway;
  let clock: TestClock;

  before(async () => {
    idp = await startIdp();
    up = await startUpstream();
    clock = new TestClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
    gw = await startGateway(
      `
${providerToml('corp', 'Corp SSO', idp.issuer)}auto_provision = true
trust_mfa = true

${providerToml('plain', 'Plain SSO', idp.issuer)}auto_provision = true

[[route]]
name = "vault"
path = "/vault"
upstream = "${up.url}"
auth = ["local", "oauth"]
mfa = true
`,
      { clock },
    );
    const client = gatewayClient(gw.url, 'corp');
    await idp.configure([
      { ...client, redirect_uris: [...(client.redirect_uris ?? []), `${gw.url}/auth/oauth/plain/callback`] },
    ]);
    for (const name of ['ann', 'ben', 'cat'])
      idp.accounts.set(`${name}-sub`, {
        email: `${name}@example.com`,
        email_verified: true,
        preferred_username: name,
      });
  });
  after(async () => {
    await gw.close();
    await up.close();
    await idp.close();
  });

  /** Signs `account` in through provider `id`; the gateway's answer to the callback. */
  async function via(b: BrowserClient, id: string, account: string, returnTo = '/vault/x') {
    const start = await b.get(`/auth/oauth/${id}/start?return_to=${encodeURIComponent(returnTo)}`);
    assert.equal(start.status, 303, start.body);
    const back = await new IdpUser(idp.issuer).authorize(start.location as string, account);
    return b.get(pathOf(back));
  }

  test('a trusted provider that asked for a second factor satisfies mfa = true', async () => {
    idp.amr.set('ann-sub', ['pwd', 'otp']);
    const b = new BrowserClient(gw.url);
    const done = await via(b, 'corp', 'ann-sub');
    assert.equal(done.status, 303, done.body);
    assert.equal(done.location, '/vault/x');
    assert.equal((await b.get('/vault/x')).status, 200);
    const seen = up.seen.at(-1)?.headers ?? {};
    assert.equal(seen['x-hero-auth-method'], 'oidc:corp+mfa');
    assert.deepEqual(decodeJwt(String(seen['x-hero-assertion'])).amr, ['mfa']);
  });

  test('a trusted provider that did not ask for one, or an untrusted one that did, does not', async () => {
    idp.amr.set('ben-sub', ['pwd']);
    const b = new BrowserClient(gw.url);
    assert.equal((await via(b, 'corp', 'ben-sub')).location, '/vault/x');
    const refused = await b.get('/vault/x');
    assert.equal(refused.status, 303);
    assert.equal(new URL(String(refused.location)).pathname, '/auth/mfa');

    idp.amr.set('cat-sub', ['pwd', 'mfa', 'otp']);
    const c = new BrowserClient(gw.url);
    assert.equal((await via(c, 'plain', 'cat-sub')).location, '/vault/x');
    const also = await c.get('/vault/x');
    assert.equal(also.status, 303, 'plain is not trusted for second factors');
    assert.equal(new URL(String(also.location)).pathname, '/auth/mfa');
  });

  test('a user with a factor of ours is challenged after the provider, and then let in', async () => {
    // cat (one factor, signed in just now) adds an authenticator app on the sign-in security page.
    const b = new BrowserClient(gw.url);
    idp.amr.delete('cat-sub');
    await via(b, 'plain', 'cat-sub', '/auth/account/security');
    const page = await b.get('/auth/account/security');
    const begun = await b.post('/auth/account/security/totp', { csrf: csrfIn(page.body) });
    const secret = secretIn(begun.body);
    const factorId = factorIdIn(begun.body);
    const added = await b.post('/auth/account/security/totp/confirm', {
      csrf: csrfIn(begun.body),
      factor_id: factorId,
      name: 'Phone',
      code: codeAt(secret, clock.now()),
    });
    assert.equal(added.status, 200, added.body.slice(0, 300));
    clock.advance(30_000);

    const fresh = new BrowserClient(gw.url);
    const held = await via(fresh, 'plain', 'cat-sub');
    assert.equal(held.status, 303);
    assert.match(String(held.location), /\/auth\/mfa$/, 'the provider was only the first factor');
    assert.equal((await fresh.get('/vault/x')).status, 303, 'no session before the code');
    const challenge = await fresh.get('/auth/mfa');
    const done = await fresh.post('/auth/mfa', {
      csrf: csrfIn(challenge.body),
      code: codeAt(secret, clock.now()),
    });
    assert.equal(done.status, 303, done.body.slice(0, 300));
    assert.equal(done.location, '/vault/x');
    assert.equal((await fresh.get('/vault/x')).status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-auth-method'], 'oidc:plain+totp');
  });
});
