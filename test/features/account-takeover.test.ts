// Pre-account takeover, black-box: someone registers (or claims at a provider) an address that is not theirs
// before its owner arrives. Whoever proves the address must never end up in an account whose password or
// provider link someone else set. Real gateway, real SMTP, real OpenID provider.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { compileSnapshot } from '../../src/http/snapshot.ts';
import { BrowserClient, csrfIn, type Response, send } from '../helpers/browser-client.ts';
import { auditEvents, startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { gatewayClient, IdpUser, pathOf, providerToml, startIdp, type TestIdp } from '../helpers/idp.ts';
import { linkIn, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const ATTACKER = 'the attackers own passphrase';
const OWNER = 'the real owners new passphrase';
const TAKE_OVER = { intent: 'takeover' };

describe('pre-account takeover', () => {
  let idp: TestIdp;
  let up: Upstream;
  let smtp: Smtp;
  let gw: TestGateway;
  let clock: TestClock;
  let n = 0;
  const browser = () => new BrowserClient(gw.url, { 'x-forwarded-for': `203.0.113.${++n}` });
  const mailTo = (address: string) => smtp.waitForMail((m) => m.to.includes(address));

  before(async () => {
    [idp, up, smtp] = await Promise.all([startIdp(), startUpstream(), startSmtp()]);
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `[accounts]\nregistration = "open"\n[mail]\nsmtp_url = "${smtp.url}"\n` +
        `${providerToml('linker', 'Linker', idp.issuer)}link_by_verified_email = true\n` +
        `${providerToml('provision', 'Provision', idp.issuer)}auto_provision = true\n` +
        `[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = ["local", "oauth", "bearer"]\n`,
      { clock, server: 'trusted_proxies = ["127.0.0.1"]' },
    );
    await idp.configure([
      {
        ...gatewayClient(gw.url, 'linker'),
        redirect_uris: ['linker', 'provision'].map((p) => `${gw.url}/auth/oauth/${p}/callback`),
      },
    ]);
  });
  after(async () => {
    await gw.close();
    await Promise.all([up.close(), smtp.close(), idp.close()]);
  });

  const register = (b: BrowserClient, username: string, email: string, password = ATTACKER) =>
    b.submit('/auth/register', '/auth/register', { username, email, password, confirm_password: password });
  /** Opens a mailed link (GET shows a page) and posts that page's first form with `fields`. */
  const follow = async (b: BrowserClient, link: URL, fields: Record<string, string> = {}) => {
    const page = await b.get(`${link.pathname}${link.search}`);
    if (page.status !== 200) return page;
    return b.post(link.pathname, {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
      ...fields,
    });
  };
  const status = async (b: BrowserClient) => JSON.parse((await b.get('/auth/status')).body);
  const withToken = (token: string) =>
    send(`${gw.url}/app`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  async function signInVia(provider: string, sub: string, b = browser()): Promise<Response> {
    const res = await b.get(`/auth/oauth/${provider}/start?return_to=%2Fapp`);
    assert.equal(res.status, 303, res.body);
    return b.get(pathOf(await new IdpUser(idp.issuer).authorize(res.location as string, sub)));
  }
  /** The attacker's own API token, made on the account page of a session they hold. */
  async function tokenOf(b: BrowserClient): Promise<string> {
    const made = await b.submit('/auth/account', '/auth/account/tokens', { name: 'mine', expires: '90d' });
    assert.equal(made.status, 303, made.body.slice(0, 300));
    const shown = await b.get(made.location as string);
    return /value="(hgw_[A-Za-z0-9_-]+)"/.exec(shown.body)?.[1] ?? assert.fail(shown.body.slice(0, 300));
  }
  /** Lets unconfirmed accounts sign in with their password for a moment (require_verified_email = false). */
  async function withUnverifiedSignIn<T>(fn: () => Promise<T>): Promise<T> {
    const { config } = gw.gateway.snapshots.current;
    gw.gateway.snapshots.current = compileSnapshot({
      ...config,
      accounts: { ...config.accounts, require_verified_email: false },
    });
    try {
      return await fn();
    } finally {
      gw.gateway.snapshots.current = compileSnapshot(config);
    }
  }
  const audit = (action: string) => auditEvents(gw, action);

  test('register-as-victim: the owner confirming from their own browser takes over; the attacker is out for good', async () => {
    const attacker = browser();
    assert.equal((await register(attacker, 'victim', 'victim@example.com')).status, 200);
    await mailTo('victim@example.com'); // the confirmation the attacker cannot read
    // The attacker's own sign-in (right password, unconfirmed address) mails the victim a fresh link.
    const attempt = await browser().signIn('victim', ATTACKER);
    assert.equal(attempt.status, 403);
    const link = linkIn(await mailTo('victim@example.com'), '/auth/verify');
    // Where unconfirmed accounts may sign in, the attacker holds a session and an API token meanwhile.
    const session = browser();
    const token = await withUnverifiedSignIn(async () => {
      assert.equal((await session.signIn('victim', ATTACKER, '/app')).status, 303);
      return tokenOf(session);
    });
    assert.equal((await withToken(token)).status, 200, 'the token works before the owner arrives');

    // The owner opens the link in their own browser (no attacker cookie) and says the password is not theirs.
    const owner = browser();
    const took = await follow(owner, link, TAKE_OVER);
    assert.equal(took.status, 303);
    const me = await status(owner);
    assert.equal(me.user.username, 'victim');
    assert.equal(me.user.email_verified, true);
    assert.equal((await browser().signIn('victim', ATTACKER)).status, 401, 'the attacker’s password is gone');
    assert.deepEqual(await status(session), { authenticated: false }, 'the attacker’s session ended');
    assert.equal((await withToken(token)).status, 401, 'the attacker’s token is revoked');
    assert.equal(took.location, '/auth/account/new-password', 'asked to choose a new password');
    const [reset] = await audit('account.takeover_reset');
    assert.equal(reset?.actor, 'victim');
    assert.deepEqual(
      { ...reset?.detail },
      {
        via: 'verify',
        password_removed: true,
        identities_removed: 0,
        provider_groups_left: 0,
        sessions_ended: 1,
        api_tokens_revoked: 1,
        second_factors_removed: 0,
      },
    );
    assert.equal((await audit('email.verify')).at(-1)?.detail.password_kept, false);

    // The new-password step, then the owner's own password works and the attacker's still does not.
    const step = await owner.get('/auth/account/new-password');
    assert.equal(step.status, 200);
    assert.match(step.body, /has no password now/);
    const set = await owner.submit('/auth/account/new-password', '/auth/account/new-password', {
      new_password: OWNER,
      confirm_password: OWNER,
    });
    assert.equal(set.status, 303);
    assert.equal((await browser().signIn('victim', OWNER, '/app')).status, 303);
    assert.equal((await browser().signIn('victim', ATTACKER)).status, 401);
  });

  test('register-as-victim, then the owner signs in with a provider: the account is theirs alone', async () => {
    const attacker = browser();
    await register(attacker, 'ceo', 'ceo@example.com');
    const link = linkIn(await mailTo('ceo@example.com'), '/auth/verify');
    assert.equal((await follow(browser(), link, TAKE_OVER)).status, 303);
    idp.accounts.set('ceo-sub', { email: 'ceo@example.com', email_verified: true });
    const owner = browser();
    assert.equal((await signInVia('linker', 'ceo-sub', owner)).status, 303);
    assert.equal((await status(owner)).user.username, 'ceo');
    assert.equal((await attacker.signIn('ceo', ATTACKER)).status, 401, 'nobody else can enter it');
  });

  test('the registrant keeps the password: same browser, or the right password in another one', async () => {
    const b = browser();
    await register(b, 'sam', 'sam@example.com', ATTACKER);
    const first = linkIn(await mailTo('sam@example.com'), '/auth/verify');
    const page = await b.get(`${first.pathname}${first.search}`);
    assert.match(page.body, /Confirm and sign in/);
    assert.doesNotMatch(page.body, /I did not set a password here/, 'the browser that chose it is not asked');
    const done = await follow(b, first);
    assert.equal(done.status, 303);
    assert.equal(done.location, '/auth/account');
    assert.equal((await browser().signIn('sam', ATTACKER, '/app')).status, 303, 'password kept');

    await register(browser(), 'tim', 'tim@example.com', ATTACKER);
    const link = linkIn(await mailTo('tim@example.com'), '/auth/verify');
    const other = browser();
    // Another browser is asked: the password, or a clearly labelled way to take the account over.
    const choice = await other.get(`${link.pathname}${link.search}`);
    assert.equal(choice.status, 200);
    assert.match(choice.body, /<label for="f-password">Its password<\/label>/);
    assert.match(choice.body, /Confirm with my password/);
    assert.match(choice.body, /I did not set a password here \/ I don(’|'|&#39;)t know it/);
    const kept = await follow(other, link, { password: ATTACKER });
    assert.equal(kept.status, 303);
    assert.equal((await status(other)).user.email_verified, true);
    assert.equal((await browser().signIn('tim', ATTACKER, '/app')).status, 303, 'password kept');
    assert.equal((await audit('email.verify')).at(-1)?.detail.because, 'password');
  });

  test('a wrong password on the confirmation page is refused, throttled, and confirms nothing', async () => {
    await register(browser(), 'uma', 'uma@example.com', ATTACKER);
    const link = linkIn(await mailTo('uma@example.com'), '/auth/verify');
    const guesser = browser();
    const wrong = await follow(guesser, link, { password: 'not the password at all' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /That is not this account’s password/);
    assert.equal((await gw.store.users.byUsername('uma'))?.emailVerifiedAt, null, 'not confirmed');
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await follow(guesser, link, { password: `guess number ${i} of many` })).status);
    assert.ok(statuses.includes(429), `throttled: ${statuses}`);
    const blocked = await follow(guesser, link, { password: ATTACKER });
    assert.equal(blocked.status, 429, 'not even the right password while throttled');
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.equal((await gw.store.users.byUsername('uma'))?.emailVerifiedAt, null, 'still not confirmed');
    assert.equal(
      (await guesser.get(`${link.pathname}${link.search}`)).status,
      200,
      'the link is not used up',
    );
    clock.advance(60 * 60_000);
    assert.equal((await follow(guesser, link, { password: ATTACKER })).status, 303);
    assert.equal((await browser().signIn('uma', ATTACKER, '/app')).status, 303);
  });

  test('a provider that has not verified the address creates no account under it; a verified one does', async () => {
    for (const claims of [{ email_verified: false }, {}, { email_verified: 'true' }]) {
      const sub = `nv-${JSON.stringify(claims).replace(/\W/g, '')}`;
      idp.accounts.set(sub, { email: 'newcomer@example.com', preferred_username: 'newcomer', ...claims });
      const b = browser();
      const res = await signInVia('provision', sub, b);
      assert.equal(res.status, 403, JSON.stringify(claims));
      assert.match(res.body, /Provision has not verified your email address/);
      assert.deepEqual(await status(b), { authenticated: false });
      assert.equal(await gw.store.users.byEmail('newcomer@example.com'), null);
      assert.equal(await gw.store.oidcIdentities.find(idp.issuer, sub), null);
    }
    assert.equal((await audit('oidc.provision_refused')).at(-1)?.detail.reason, 'email_unverified');
    // The same words for an address that has an account: the refusal tells nothing about who is here.
    idp.accounts.set('nv-taken', { email: 'sam@example.com', email_verified: false });
    const taken = await signInVia('linker', 'nv-taken');
    assert.equal(taken.status, 403);
    assert.match(taken.body, /Linker has not verified your email address/);
    assert.equal(await gw.store.oidcIdentities.find(idp.issuer, 'nv-taken'), null, 'never linked either');

    idp.accounts.set('nv-ok', {
      email: 'newcomer@example.com',
      email_verified: true,
      preferred_username: 'newcomer',
    });
    const b = browser();
    assert.equal((await signInVia('provision', 'nv-ok', b)).status, 303);
    assert.equal((await status(b)).user.username, 'newcomer');
  });

  /** An account made before unverified addresses were refused: a provider link and a password an attacker set. */
  async function squatted(username: string, sub: string) {
    const user = await gw.store.users.create({
      username,
      email: `${username}@example.com`,
      emailVerified: false,
      passwordHash: await hashPassword(ATTACKER),
      oidcIdentity: {
        provider: 'provision',
        issuer: idp.issuer,
        subject: sub,
        email: `${username}@example.com`,
      },
    });
    idp.accounts.set(sub, { email: `${username}@example.com`, email_verified: false });
    const attacker = browser();
    assert.equal((await signInVia('provision', sub, attacker)).status, 303, 'the attacker is in');
    return { user, attacker, token: await tokenOf(attacker) };
  }

  test('an old unverified provider link goes when the owner proves the address by a sign-in link', async () => {
    const { user, attacker, token } = await squatted('lena', 'mallory-1');
    const owner = browser();
    await owner.submit('/auth/magic-link', '/auth/magic-link', { identifier: 'lena@example.com' });
    const link = linkIn(await mailTo('lena@example.com'), '/auth/magic');
    const done = await follow(owner, link);
    assert.equal(done.status, 303);
    const again = browser();
    assert.equal((await signInVia('provision', 'mallory-1', again)).status, 403, 'the provider link is gone');
    assert.deepEqual(await status(again), { authenticated: false });
    assert.deepEqual(await gw.store.oidcIdentities.listForUser(user.id), []);
    assert.equal(await gw.store.users.passwordHash(user.id), null);
    assert.deepEqual(await status(attacker), { authenticated: false }, 'the attacker’s session ended');
    assert.equal((await withToken(token)).status, 401, 'the attacker’s token is revoked');
    assert.equal((await status(owner)).user.username, 'lena');
    assert.equal(done.location, '/auth/account/new-password', 'asked to choose a password');
  });

  test('an old unverified provider link goes when the owner resets the password by mail', async () => {
    const { user, attacker } = await squatted('rhea', 'mallory-2');
    await browser().submit('/auth/forgot', '/auth/forgot', { identifier: 'rhea@example.com' });
    const link = linkIn(await mailTo('rhea@example.com'), '/auth/reset');
    assert.equal((await follow(browser(), link, { password: OWNER, confirm_password: OWNER })).status, 303);
    assert.deepEqual(await gw.store.oidcIdentities.listForUser(user.id), []);
    assert.deepEqual(await status(attacker), { authenticated: false });
    assert.equal((await signInVia('provision', 'mallory-2')).status, 403);
    assert.equal((await browser().signIn('rhea', OWNER, '/app')).status, 303);
  });

  test('an old unverified provider link goes when the owner links a provider that verified the address', async () => {
    const { user, token } = await squatted('ines', 'mallory-3');
    idp.accounts.set('ines-sub', { email: 'ines@example.com', email_verified: true });
    const owner = browser();
    assert.equal((await signInVia('linker', 'ines-sub', owner)).status, 303);
    assert.equal((await status(owner)).user.username, 'ines');
    assert.deepEqual(
      (await gw.store.oidcIdentities.listForUser(user.id)).map((i) => i.subject),
      ['ines-sub'],
      'only the owner’s link stays',
    );
    assert.equal((await withToken(token)).status, 401, 'the attacker’s token is revoked');
    const again = browser();
    assert.equal((await signInVia('provision', 'mallory-3', again)).status, 403);
    assert.deepEqual(await status(again), { authenticated: false });
  });
});
