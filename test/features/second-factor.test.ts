// The second factor end to end through the pages, against a real SMTP server: enrolling an authenticator app
// (codes computed from the secret the page shows), the challenge after every first factor, replay and old
// codes, throttling, recovery codes, routes with `mfa = true`, and what the app then receives.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { hashPassword } from '../../src/crypto/password.ts';
import { hashToken, randomSecret } from '../../src/crypto/tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, type Response, send } from '../helpers/browser-client.ts';
import { auditEvents, startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { linkIn, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { codeAt, factorIdIn, secretIn } from '../helpers/totp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { statusOf } from '../helpers/ws-client.ts';

const PASSWORD = 'correct horse battery staple';

const recoveryCodesIn = (body: string) =>
  [...body.matchAll(/<li><code>([0-9A-Z]{5}-[0-9A-Z]{5})<\/code><\/li>/g)].map((m) => m[1] as string);

describe('second factor: authenticator app and recovery codes', () => {
  let up: Upstream;
  let smtp: Smtp;
  let gw: TestGateway;
  let clock: TestClock;
  let secret = '';
  let recovery: string[] = [];
  let n = 0;
  const browser = () => new BrowserClient(gw.url, { 'x-forwarded-for': `198.51.100.${++n}` });

  before(async () => {
    up = await startUpstream();
    smtp = await startSmtp();
    // On a step boundary, so "now" and "30 s later" are always two different codes.
    clock = new TestClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
    gw = await startGateway(
      `
[forward_auth]
headers = "traefik"
[mail]
smtp_url = "${smtp.url}"
[branding]
title = "Test Gateway"
[[route]]
name = "app"
path = "/app"
upstream = "${up.url}"
auth = "local"
[[route]]
name = "vault"
path = "/vault"
upstream = "${up.url}"
auth = "local"
mfa = true
`,
      { clock, server: 'trusted_proxies = ["127.0.0.1"]', admin: true },
    );
    const passwordHash = await hashPassword(PASSWORD);
    for (const name of ['carol', 'dave'])
      await createUser(gw.store, {
        username: name,
        email: `${name}@example.com`,
        emailVerified: true,
        passwordHash,
      });
  });
  after(async () => {
    await gw.close();
    await smtp.close();
    await up.close();
  });

  /** Signs in with the password; the answer is where the gateway sends the browser next. */
  const password = async (b: BrowserClient, returnTo = '/app/') => {
    const r = await b.signIn('carol', PASSWORD, returnTo);
    assert.equal(r.status, 303, r.body.slice(0, 300));
    return r;
  };
  const answer = async (b: BrowserClient, fields: Record<string, string>) => {
    const page = await b.get('/auth/mfa');
    assert.equal(page.status, 200, page.body.slice(0, 300));
    return b.post('/auth/mfa', { csrf: csrfIn(page.body), ...fields });
  };
  const next = () => clock.advance(30_000);
  const audited = (action: string) => auditEvents(gw, action);
  /**
   * A session that passed the password alone, written straight to the store: what a sign-in that raced the
   * account's first enrolment leaves (second-factor-races.test.ts). Returns its cookie's value.
   */
  const oneFactorSession = async (userId: string) => {
    const token = randomSecret(32);
    await gw.store.sessions.create({
      tokenHash: hashToken(token),
      userId,
      authMethod: 'password',
      idleExpiresAt: clock.now() + 3_600_000,
      absoluteExpiresAt: clock.now() + 3_600_000,
      ip: null,
      userAgent: null,
    });
    return token;
  };

  test('enrolling through the pages: QR code, key and link shown; it counts only after a right code', async () => {
    // A session from before (a cookie someone copied, say): adding a factor must not leave it one-factor.
    const earlier = browser();
    await password(earlier);
    assert.equal((await earlier.get('/app/')).status, 200);
    const b = browser();
    const first = await password(b);
    assert.match(String(first.location), /\/app\/$/, 'no factor yet: straight in');
    const security = await b.get('/auth/account/security');
    assert.equal(security.status, 200);
    const begun = await b.post('/auth/account/security/totp', { csrf: csrfIn(security.body) });
    assert.equal(begun.status, 200, begun.body.slice(0, 300));
    assert.match(begun.body, /<svg[^>]*role="img"/, 'a QR code');
    assert.match(begun.body, /href="otpauth:\/\/totp\/Test%20Gateway:carol\?/, 'the otpauth:// URI');
    secret = secretIn(begun.body);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const form = { csrf: csrfIn(begun.body), factor_id: factorIdIn(begun.body), name: 'Phone' };
    const wrong = await b.post('/auth/account/security/totp/confirm', { ...form, code: '000000' });
    assert.equal(wrong.status, 400);
    assert.equal(secretIn(wrong.body), secret, 'the same secret is shown again');
    assert.equal(
      (await gw.store.secondFactors.listForUser((await gw.store.users.byUsername('carol'))!.id)).filter(
        (f) => f.confirmedAt,
      ).length,
      0,
    );
    const done = await b.post('/auth/account/security/totp/confirm', {
      ...form,
      code: codeAt(secret, clock.now()),
    });
    assert.equal(done.status, 200, done.body.slice(0, 300));
    recovery = recoveryCodesIn(done.body);
    assert.equal(recovery.length, 10, 'the first factor comes with ten recovery codes, shown once');
    const listed = await b.get('/auth/account/security');
    assert.match(listed.body, /Phone/);
    assert.equal((await audited('second_factor.add')).at(-1)?.actor, 'carol');
    assert.equal((await earlier.get('/app/')).status, 303, 'every other session was signed out');
    assert.equal((await b.get('/app/')).status, 200, 'the one that added the factor stays');
    const notice = await smtp.waitForMail(
      (m) => m.to.includes('carol@example.com') && /was added/.test(m.subject),
    );
    assert.match(notice.text, /"Phone" now confirms it is you/);
    // Setting up again and again keeps one unfinished app at most.
    for (let i = 0; i < 3; i++) {
      const again = await b.get('/auth/account/security');
      await b.post('/auth/account/security/totp', { csrf: csrfIn(again.body) });
    }
    const carol = await gw.store.users.byUsername('carol');
    const all = await gw.store.secondFactors.listForUser(carol!.id);
    assert.deepEqual(all.map((f) => f.confirmedAt !== null).sort(), [false, true]);
  });

  test('sign in: challenged after the password, no session until the code; then in, with the factor named downstream', async () => {
    next();
    const b = browser();
    const r = await password(b, '/app/page');
    assert.match(String(r.location), /\/auth\/mfa$/);
    // Half signed in: nothing is reachable yet.
    const early = await b.get('/app/page');
    assert.equal(early.status, 303);
    assert.match(String(early.location), /\/auth\/login/);
    const status = JSON.parse((await b.get('/auth/status', { accept: 'application/json' })).body);
    assert.equal(status.authenticated, false);
    const page = await b.get('/auth/mfa');
    assert.match(page.body, /autocomplete="one-time-code"/);
    const ok = await answer(b, { code: codeAt(secret, clock.now()) });
    assert.equal(ok.status, 303, ok.body.slice(0, 300));
    assert.match(String(ok.location), /\/app\/page$/);
    const seen = up.seen.length;
    const app = await b.get('/app/page');
    assert.equal(app.status, 200);
    const headers = up.seen[seen]?.headers ?? {};
    assert.equal(headers['x-hero-auth-method'], 'password+totp');
    const claims = decodeJwt(String(headers['x-hero-assertion']));
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    const after2 = JSON.parse((await b.get('/auth/status', { accept: 'application/json' })).body);
    assert.equal(after2.second_factor, true);
    assert.equal(after2.auth_method, 'password+totp');
  });

  test('the same code again is refused; so is one two steps old; one step old is accepted', async () => {
    const used = codeAt(secret, clock.now());
    const b = browser();
    await password(b);
    const again = await answer(b, { code: used });
    assert.equal(again.status, 401, 'a code works once');
    next();
    next();
    const twoOld = await answer(b, { code: codeAt(secret, clock.now() - 60_000) });
    assert.equal(twoOld.status, 401, 'two steps old');
    const oneOld = await answer(b, { code: codeAt(secret, clock.now() - 30_000) });
    assert.equal(oneOld.status, 303, 'one step either side is accepted');
  });

  test('wrong codes are throttled per account: 429 with Retry-After within ten tries, audited', async () => {
    next();
    const b = browser();
    await password(b);
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await answer(b, { code: String(100000 + i) });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = String(r.headers['retry-after']);
    }
    assert.ok(statuses.includes(429), `statuses: ${statuses.join(',')}`);
    assert.ok(Number(retryAfter) > 0);
    const failures = await audited('second_factor.failure');
    assert.ok(failures.length >= 5 && failures.every((e) => e.actor === 'carol'), JSON.stringify(failures));
    assert.ok((await audited('second_factor.throttled')).length > 0);
    // From another network too: the account's limit holds whoever asks.
    const other = browser();
    await password(other);
    assert.equal((await answer(other, { code: codeAt(secret, clock.now()) })).status, 429);
    clock.advance(20 * 60_000);
    await password(other); // the held sign-in lasted 10 minutes
    const late = await answer(other, { code: codeAt(secret, clock.now()) });
    assert.equal(late.status, 303, 'after the wait the right code works');
  });

  test('a recovery code works once, never twice, and the owner gets a mail', async () => {
    next();
    const code = recovery[0] as string;
    const b = browser();
    await password(b);
    const ok = await answer(b, { recovery_code: code.toLowerCase() });
    assert.equal(ok.status, 303, ok.body.slice(0, 300));
    const mail = await smtp.waitForMail(
      (m) => m.to.includes('carol@example.com') && /recovery code/i.test(m.subject),
    );
    assert.match(mail.text, /9 of them are left/);
    assert.equal((await audited('recovery_code.use')).at(-1)?.actor, 'carol');
    assert.equal(linkIn(mail, '/auth/account/security').pathname, '/auth/account/security');
    const c = browser();
    await password(c);
    const twice = await answer(c, { recovery_code: code });
    assert.equal(twice.status, 401, 'used up');
  });

  test('a sign-in link does not skip the factor', async () => {
    next();
    const b = browser();
    const page = await b.get('/auth/magic-link');
    await b.post('/auth/magic-link', { csrf: csrfIn(page.body), identifier: 'carol@example.com' });
    const mail = await smtp.waitForMail(
      (m) => m.to.includes('carol@example.com') && /sign-in link/i.test(m.subject),
    );
    const link = linkIn(mail, '/auth/magic');
    const confirm = await b.get(`${link.pathname}${link.search}`);
    const r = await b.post('/auth/magic', {
      csrf: csrfIn(confirm.body),
      token: link.searchParams.get('token') ?? '',
    });
    assert.equal(r.status, 303);
    assert.match(String(r.location), /\/auth\/mfa$/);
    assert.equal((await b.get('/app/')).status, 303, 'no session yet');
    const ok = await answer(b, { code: codeAt(secret, clock.now()) });
    assert.equal(ok.status, 303);
    const seen = up.seen.length;
    assert.equal((await b.get('/app/')).status, 200);
    assert.equal(up.seen[seen]?.headers['x-hero-auth-method'], 'magic_link+totp');
  });

  test('while held for the factor, the first factor alone cannot add another factor', async () => {
    next();
    const carol = await gw.store.users.byUsername('carol');
    const before = await gw.store.secondFactors.listForUser(carol!.id);
    const b = browser();
    await password(b);
    const page = await b.get('/auth/mfa');
    const r = await b.post('/auth/mfa/totp', { csrf: csrfIn(page.body) });
    assert.equal(r.status, 303);
    assert.doesNotMatch(r.body, /class="secret"/);
    const after = await gw.store.secondFactors.listForUser(carol!.id);
    assert.deepEqual(after, before, 'no factor added or changed, not even an unfinished one');
  });

  test('mfa = true: a one-factor session is sent to the challenge and back; scripts get 401 mfa_required', async () => {
    next();
    // dave has no factor yet: his session is one-factor until he adds an app in it, which steps it up.
    const b = browser();
    const r = await b.signIn('dave', PASSWORD, '/app/');
    assert.match(String(r.location), /\/app\/$/);
    assert.equal(
      (await send(`${gw.url}/vault/x`, { headers: { cookie: b.cookieHeader(), accept: 'application/json' } }))
        .status,
      401,
    );
    const security = await b.get('/auth/account/security');
    const begun = await b.post('/auth/account/security/totp', { csrf: csrfIn(security.body) });
    const daveSecret = secretIn(begun.body);
    const confirmed = await b.post('/auth/account/security/totp/confirm', {
      csrf: csrfIn(begun.body),
      factor_id: factorIdIn(begun.body),
      name: 'Phone',
      code: codeAt(daveSecret, clock.now()),
    });
    assert.equal(confirmed.status, 200);
    assert.equal((await b.get('/vault/x')).status, 200, 'the session that added the factor passed it');
    // A one-factor session of an account with a factor: a sign-in that raced the enrolment (see
    // second-factor-races.test.ts), written here directly.
    const dave = await gw.store.users.byUsername('dave');
    const raced = await oneFactorSession(dave!.id);
    const c = browser();
    c.jar.set('__Host-hero_session', raced);
    assert.equal((await c.get('/app/')).status, 200, 'routes without mfa still admit the session');
    // A token would skip the factor everywhere: this one-factor session may not mint one.
    const account = await c.get('/auth/account');
    const mint = await c.post('/auth/account/tokens', {
      csrf: csrfIn(account.body),
      name: 'ci',
      expires: '30d',
    });
    assert.equal(mint.status, 303);
    assert.match(String(mint.location), /^\/auth\/mfa\?return_to=/);
    assert.deepEqual(await gw.store.apiTokens.list(dave!.id), []);
    // Nor may the password alone stand in for the factor to change factors later.
    const security2 = await c.get('/auth/account/security');
    assert.doesNotMatch(security2.body, /name="password"/);
    const script = await send(`${gw.url}/vault/doc?x=1`, {
      headers: { cookie: c.cookieHeader(), accept: 'application/json' },
    });
    assert.equal(script.status, 401);
    assert.equal(JSON.parse(script.body).code, 'mfa_required');
    const sent = await c.get('/vault/doc?x=1');
    assert.equal(sent.status, 303);
    const location = new URL(String(sent.location));
    assert.equal(location.pathname, '/auth/mfa');
    assert.equal(location.searchParams.get('return_to'), '/vault/doc?x=1');
    next();
    const page = await c.get(`/auth/mfa${location.search}`);
    assert.equal(page.status, 200);
    const done = await c.post('/auth/mfa', {
      csrf: csrfIn(page.body),
      return_to: '/vault/doc?x=1',
      code: codeAt(daveSecret, clock.now()),
    });
    assert.equal(done.status, 303, done.body.slice(0, 300));
    assert.match(String(done.location), /\/vault\/doc\?x=1$/);
    const seen = up.seen.length;
    assert.equal((await c.get('/vault/doc?x=1')).status, 200);
    assert.equal(up.seen[seen]?.headers['x-hero-auth-method'], 'password+totp');
    assert.deepEqual(decodeJwt(String(up.seen[seen]?.headers['x-hero-assertion'])).amr, [
      'pwd',
      'otp',
      'mfa',
    ]);
  });

  test('forward-auth, a WebSocket upgrade and the sign-in page give a one-factor session the same answer', async () => {
    const token = await oneFactorSession((await gw.store.users.byUsername('dave'))!.id);
    const cookie = `__Host-hero_session=${token}`;
    const asked = (accept: string) =>
      send(`${gw.url}/auth/forward`, {
        headers: {
          cookie,
          accept,
          'x-forwarded-method': 'GET',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': `127.0.0.1:${gw.port}`,
          'x-forwarded-uri': '/vault/doc',
        },
      });
    const script = await asked('application/json');
    assert.equal(script.status, 401);
    assert.equal(JSON.parse(script.body).code, 'mfa_required');
    const person = await asked('text/html');
    assert.equal(person.status, 303);
    assert.equal(new URL(String(person.location)).pathname, '/auth/mfa');
    assert.equal(await statusOf(`ws://127.0.0.1:${gw.port}/vault/socket`, { cookie, origin: gw.url }), 401);
    // nginx turns every 401 into the sign-in page: a signed-in browser is sent on to the challenge, not back.
    const login = await send(`${gw.url}/auth/login?return_to=%2Fvault%2Fdoc`, {
      headers: { cookie, accept: 'text/html' },
    });
    assert.equal(login.status, 303);
    assert.match(String(login.location), /^\/auth\/mfa\?return_to=%2Fvault%2Fdoc$/);
  });

  test('right answers give the network its attempt back: an office behind one address is never throttled', async () => {
    const office = '203.0.113.77';
    for (let i = 0; i < 25; i++) {
      next();
      const b = new BrowserClient(gw.url, { 'x-forwarded-for': office });
      await password(b);
      const r = await answer(b, { code: codeAt(secret, clock.now()) });
      assert.equal(r.status, 303, `sign-in ${i + 1}: ${r.status}`);
    }
  });

  test('metrics count enrolments and challenges by factor and outcome', async () => {
    const text = (await gw.gateway.admin!.inject('/metrics')).body;
    const value = (line: string) => Number(new RegExp(`^${line} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    assert.equal(value('hero_second_factor_enrolments_total\\{kind="totp"\\}'), 2);
    assert.ok(value('hero_second_factor_challenges_total\\{factor="totp",outcome="ok"\\}') >= 4);
    assert.ok(value('hero_second_factor_challenges_total\\{factor="totp",outcome="failed"\\}') >= 5);
    assert.ok(value('hero_second_factor_challenges_total\\{factor="totp",outcome="throttled"\\}') >= 1);
    assert.equal(value('hero_second_factor_challenges_total\\{factor="recovery_code",outcome="ok"\\}'), 1);
  });

  test('a password reset does not skip the factor: the new password is one step, the factor still follows', async () => {
    const b = browser();
    await b.submit('/auth/forgot', '/auth/forgot', { identifier: 'dave@example.com' });
    const mail = await smtp.waitForMail((m) => m.to.includes('dave@example.com') && /Reset/.test(m.subject));
    const link = linkIn(mail, '/auth/reset');
    const form = await b.get(`${link.pathname}${link.search}`);
    const NEW = 'quite another long passphrase';
    const reset = await b.post('/auth/reset', {
      csrf: csrfIn(form.body),
      token: link.searchParams.get('token') ?? '',
      password: NEW,
      confirm_password: NEW,
    });
    assert.equal(reset.status, 303);
    assert.equal(reset.location, '/auth/login?done=reset');
    assert.equal((await b.get('/app/')).status, 303, 'the reset signs nobody in');
    const signedIn = await b.signIn('dave', NEW, '/app/');
    assert.equal(signedIn.status, 303);
    assert.match(String(signedIn.location), /\/auth\/mfa$/, 'the factor follows the new password');
    assert.equal((await b.get('/app/')).status, 303);
  });
});

describe('second factor required by the operator', () => {
  let up: Upstream;
  let gw: TestGateway;
  let clock: TestClock;

  before(async () => {
    up = await startUpstream();
    clock = new TestClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
    gw = await startGateway(
      `
[accounts]
second_factor = "required"
[[route]]
name = "app"
upstream = "${up.url}"
auth = "local"
`,
      { clock },
    );
    await createUser(gw.store, {
      username: 'erin',
      email: 'erin@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  const enrol = async (b: BrowserClient): Promise<Response> => {
    const page = await b.get('/auth/mfa');
    assert.equal(page.status, 200);
    assert.match(page.body, /Set up an authenticator app/);
    const begun = await b.post('/auth/mfa/totp', { csrf: csrfIn(page.body) });
    assert.equal(begun.status, 200, begun.body.slice(0, 300));
    return b.post('/auth/mfa/totp/confirm', {
      csrf: csrfIn(begun.body),
      factor_id: factorIdIn(begun.body),
      name: 'Phone',
      code: codeAt(secretIn(begun.body), clock.now()),
    });
  };

  let erinBrowser: BrowserClient;

  test('a user without a factor reaches no route before enrolling, then is in with it', async () => {
    const b = new BrowserClient(gw.url);
    erinBrowser = b;
    const r = await b.signIn('erin', PASSWORD, '/somewhere');
    assert.equal(r.status, 303);
    assert.match(String(r.location), /\/auth\/mfa$/);
    for (const path of ['/somewhere', '/', '/auth/account'])
      assert.equal((await b.get(path)).status, 303, `${path} is not reachable half signed in`);
    assert.equal(up.seen.length, 0);
    const done = await enrol(b);
    assert.equal(done.status, 200, done.body.slice(0, 300));
    assert.equal(recoveryCodesIn(done.body).length, 10);
    assert.match(done.body, /href="[^"]*\/somewhere"/, 'continue goes where the sign-in was going');
    const app = await b.get('/somewhere');
    assert.equal(app.status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-auth-method'], 'password+totp');
  });

  test('removing the last factor is refused while one is required', async () => {
    const b = erinBrowser;
    const erin = await gw.store.users.byUsername('erin');
    const [factor] = await gw.store.secondFactors.listForUser(erin!.id);
    const page = await b.get('/auth/account/security');
    assert.equal(page.status, 200);
    const r = await b.post('/auth/account/security/remove', {
      csrf: csrfIn(page.body),
      factor_id: factor!.id,
    });
    assert.equal(r.status, 409, r.body.slice(0, 300));
    assert.match(r.body, /last second factor/);
    assert.equal((await gw.store.secondFactors.listForUser(erin!.id)).length, 1);
  });
});
