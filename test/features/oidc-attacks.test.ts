// Answers from an identity provider that must never become a session: missing, forged, replayed, foreign or
// another browser's state; a wrong nonce; a wrong issuer (mix-up); a refusal at the provider; a token
// endpoint that will not redeem the code. Against a real OpenID provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BrowserClient, type Response } from '../helpers/browser-client.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, pathOf, startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const SESSION = '__Host-hero_session';
const withParam = (url: string, name: string, value: string) => {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
};

describe('OpenID Connect: answers that must not sign anyone in', () => {
  let idp: TestIdp;
  let other: TestIdp;
  let up: Upstream;
  let gw: TestGateway;

  const provider = (id: string, issuer: string, secret = 'a-test-client-secret-of-some-length') => `
[[oidc]]
id = "${id}"
name = "${id.toUpperCase()}"
issuer = "${issuer}"
client_id = "hero-gateway"
client_secret = "${secret}"
auto_provision = true
`;

  before(async () => {
    [idp, other, up] = await Promise.all([startIdp(), startIdp(), startUpstream()]);
    gw = await startGateway(`
${provider('idp', idp.issuer)}
${provider('other', other.issuer)}
${provider('badsecret', idp.issuer, 'not-the-secret-the-provider-knows')}
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "oauth"
`);
    const client = gatewayClient(gw.url, 'idp');
    await idp.configure([
      {
        ...client,
        redirect_uris: [...(client.redirect_uris ?? []), `${gw.url}/auth/oauth/badsecret/callback`],
      },
    ]);
    await other.configure([gatewayClient(gw.url, 'other')]);
    for (const p of [idp, other]) p.accounts.set('eve', { email: 'eve@example.com', email_verified: true });
  });
  after(async () => {
    await gw.close();
    await Promise.all([up.close(), idp.close(), other.close()]);
  });

  /** Starts a sign-in in `b` and returns the provider's authorization URL. */
  async function begin(b: BrowserClient, id = 'idp'): Promise<string> {
    const start = await b.get(`/auth/oauth/${id}/start?return_to=%2Fapp`);
    assert.equal(start.status, 303, start.body);
    return start.location as string;
  }

  async function sessionsCount(): Promise<number> {
    return gw.store.sessions.countActive(Date.now());
  }

  /** A refusal: the page says why in one line, no session cookie, no session row, the app not reached. */
  async function assertRefused(res: Response, status: number, b: BrowserClient, before: number) {
    assert.equal(res.status, status, res.body);
    assert.match(res.headers['content-type'] ?? '', /text\/html/);
    assert.doesNotMatch(res.body, /at .*\.ts:\d+|Error:/, 'no stack or internal message');
    assert.ok(
      !res.setCookies.some((c) => c.startsWith(`${SESSION}=`) && !/Max-Age=0/i.test(c)),
      'no session cookie',
    );
    assert.equal(await sessionsCount(), before, 'no session stored');
    const seen = up.seen.length;
    assert.equal((await b.get('/app')).status, 303, 'still not signed in');
    assert.equal(up.seen.length, seen);
  }

  test('the honest round trip works (the baseline the others deviate from)', async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(b), 'eve');
    const done = await b.get(pathOf(back));
    assert.equal(done.status, 303, done.body);
    assert.equal((await b.get('/app')).status, 200);
  });

  test('missing or forged state: 400, no session', async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(b), 'eve');
    const n = await sessionsCount();
    const noState = new URL(back);
    noState.searchParams.delete('state');
    await assertRefused(await b.get(pathOf(noState.href)), 400, b, n);
    const forged = withParam(back, 'state', 'A'.repeat(43));
    await assertRefused(await b.get(pathOf(forged)), 400, b, n);
    // Scripts get the same refusal as a problem document with its stable code.
    const json = await b.get(pathOf(forged), { accept: 'application/json' });
    assert.equal(json.status, 400);
    assert.equal(JSON.parse(json.body).code, 'oidc_state_invalid');
  });

  test('a replayed callback: the state is used up by the first answer', async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(b), 'eve');
    assert.equal((await b.get(pathOf(back))).status, 303);
    const n = await sessionsCount();
    const replay = new BrowserClient(gw.url);
    for (const [k, v] of b.jar) if (k !== SESSION) replay.jar.set(k, v); // even with the binding cookie
    await assertRefused(await replay.get(pathOf(back)), 400, replay, n);
  });

  test("another browser's callback (login CSRF): refused, and the attempt is spent", async () => {
    const attacker = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(attacker), 'eve');
    const victim = new BrowserClient(gw.url);
    await begin(victim); // the victim has a binding cookie of its own
    const n = await sessionsCount();
    await assertRefused(await victim.get(pathOf(back)), 400, victim, n);
    await assertRefused(await attacker.get(pathOf(back)), 400, attacker, n);
  });

  test("one provider's answer at another provider's callback (mix-up): refused", async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(other.issuer).authorize(await begin(b, 'other'), 'eve');
    const n = await sessionsCount();
    const foreign = pathOf(back).replace('/oauth/other/', '/oauth/idp/');
    await assertRefused(await b.get(foreign), 400, b, n);
  });

  test('a wrong issuer in the answer (RFC 9207 iss): refused, no session', async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(b), 'eve');
    assert.equal(new URL(back).searchParams.get('iss'), idp.issuer, 'the provider announces iss');
    const n = await sessionsCount();
    await assertRefused(await b.get(pathOf(withParam(back, 'iss', other.issuer))), 400, b, n);
  });

  test('a code issued by another provider, delivered with our state and issuer: the provider refuses it', async () => {
    const b = new BrowserClient(gw.url);
    const ours = await new IdpUser(idp.issuer).authorize(await begin(b), 'eve');
    const theirs = await new IdpUser(other.issuer).authorize(
      await begin(new BrowserClient(gw.url), 'other'),
      'eve',
    );
    const spliced = withParam(ours, 'code', new URL(theirs).searchParams.get('code') as string);
    const n = await sessionsCount();
    await assertRefused(await b.get(pathOf(spliced)), 502, b, n);
  });

  test('a wrong nonce in the ID token: refused, no session', async () => {
    const b = new BrowserClient(gw.url);
    // The provider puts whatever nonce the authorization request carried into the ID token.
    const tampered = withParam(await begin(b), 'nonce', 'n'.repeat(43));
    const back = await new IdpUser(idp.issuer).authorize(tampered, 'eve');
    const n = await sessionsCount();
    await assertRefused(await b.get(pathOf(back)), 400, b, n);
  });

  test('cancelled at the provider (access_denied): a clear page, no session', async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(b), 'eve', { cancel: true });
    assert.equal(new URL(back).searchParams.get('error'), 'access_denied');
    const n = await sessionsCount();
    const res = await b.get(pathOf(back));
    await assertRefused(res, 403, b, n);
    assert.match(res.body, /Sign-in at IDP was cancelled\./);
    assert.match(res.body, /href="[^"]*\/auth\/login\?return_to=%2Fapp"/, 'a way back');
  });

  test('the token endpoint refuses the code (wrong client secret): 502 page, no session', async () => {
    const b = new BrowserClient(gw.url);
    const back = await new IdpUser(idp.issuer).authorize(await begin(b, 'badsecret'), 'eve');
    const n = await sessionsCount();
    const res = await b.get(pathOf(back));
    await assertRefused(res, 502, b, n);
    assert.match(res.body, /could not complete the sign-in/);
  });

  test('unknown providers are 404, at start and callback', async () => {
    const b = new BrowserClient(gw.url);
    assert.equal((await b.get('/auth/oauth/nope/start')).status, 404);
    assert.equal((await b.get(`/auth/oauth/nope/callback?state=${'A'.repeat(43)}&code=x`)).status, 404);
  });

  // Last: it spends this network's allowance of sign-in starts.
  test('a flood of sign-in starts from one network is slowed down (each start stores an attempt)', async () => {
    const b = new BrowserClient(gw.url);
    let started = 0;
    let refused: Response | null = null;
    while (started < 400) {
      const res = await b.get('/auth/oauth/idp/start');
      if (res.status !== 303) {
        refused = res;
        break;
      }
      started++;
    }
    assert.ok(refused, 'refused at some point');
    assert.equal(refused.status, 429);
    assert.ok(
      started >= 150 && started <= 200,
      `${started} starts before the limit (200 per network, in all)`,
    );
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.match(refused.body, /Too many sign-ins from your network\. Try again in \d+ seconds\./);
  });
});
