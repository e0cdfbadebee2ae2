// The account lifecycle through the inbox, against a real SMTP server: register, confirm, sign in, forget,
// reset; sign-in links; what a stranger can and cannot learn.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import { MAIL_POLICIES } from '../../src/services/throttle.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, send } from '../helpers/browser-client.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { linkIn, type Smtp, startSmtp } from '../helpers/smtp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'a long enough passphrase';
const NEW_PASSWORD = 'an even longer new passphrase';

describe('mail flows', () => {
  let up: Upstream;
  let smtp: Smtp;
  let gw: TestGateway;
  let clock: TestClock;
  let n = 0;
  const freshIp = () => `198.51.100.${++n}`;
  const browser = () => new BrowserClient(gw.url, { 'x-forwarded-for': freshIp() });
  const toAddress = (address: string) => (m: { to: string[] }) => m.to.includes(address);

  before(async () => {
    up = await startUpstream();
    smtp = await startSmtp();
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `
[accounts]
registration = "open"
[mail]
from = "Hero Test <gateway@example.com>"
smtp_url = "${smtp.url}"
[branding]
title = "Test Gateway"
[[route]]
name = "app"
upstream = "${up.url}"
auth = "local"
`,
      { clock, server: 'public_url = "https://gw.example.com"\ntrusted_proxies = ["127.0.0.1"]' },
    );
  });
  after(async () => {
    await gw.close();
    await smtp.close();
    await up.close();
  });

  /** Follows a mailed link the way a person does: the GET shows a page, its form POSTs the token. */
  const follow = async (b: BrowserClient, link: URL, fields: Record<string, string> = {}) => {
    const path = `${link.pathname}${link.search}`;
    const page = await b.get(path);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    return b.post(link.pathname, {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
      ...fields,
    });
  };

  test('register → confirm by mail → sign in → forgot → reset: old password out, new in, other sessions ended', async () => {
    const b = browser();
    const form = await b.get('/auth/register');
    assert.equal(form.status, 200);
    const registered = await b.post('/auth/register', {
      csrf: csrfIn(form.body),
      username: 'Nina',
      email: ' Nina@Example.COM ',
      password: PASSWORD,
      confirm_password: PASSWORD,
      role: 'admin',
      email_verified: 'true',
    });
    assert.equal(registered.status, 200);
    assert.match(registered.body, /mailed you a link to confirm/);
    const mail = await smtp.waitForMail(toAddress('nina@example.com'));
    assert.match(mail.subject, /Confirm your email address for Test Gateway/);
    assert.equal(mail.from, 'gateway@example.com');
    assert.ok(mail.html.includes('Confirm my address'), 'an HTML part too');
    const link = linkIn(mail, '/auth/verify');
    assert.equal(link.origin, 'https://gw.example.com', 'links are built from public_url');

    // Not before the address is confirmed (require_verified_email), and the extra fields did nothing.
    const early = await browser().signIn('nina', PASSWORD);
    assert.equal(early.status, 403);
    assert.match(early.body, /we mailed you a new link/);
    const status0 = await gw.store.users.byUsername('nina');
    assert.equal(status0?.emailVerifiedAt, null);
    // That sent a fresh link, which replaced the first one.
    const newer = linkIn(await smtp.waitForMail(toAddress('nina@example.com')), '/auth/verify');
    assert.equal(
      (await browser().get(`${link.pathname}${link.search}`)).status,
      404,
      'the older link is void',
    );

    const confirmed = await follow(b, newer);
    assert.equal(confirmed.status, 303);
    const me = JSON.parse((await b.get('/auth/status')).body);
    assert.equal(me.user.username, 'nina');
    assert.equal(me.user.email_verified, true);
    assert.deepEqual(me.claims, [], 'no role came from the form');
    assert.equal(me.auth_method, 'magic_link');
    assert.equal(
      (await follow(browser(), link).catch(() => null))?.status ?? 404,
      404,
      'the link works once',
    );

    const laptop = browser();
    assert.equal((await laptop.signIn('nina', PASSWORD, '/')).status, 303);
    const forgot = await laptop.submit('/auth/forgot', '/auth/forgot', { identifier: 'nina@example.com' });
    assert.equal(forgot.status, 200);
    const resetMail = await smtp.waitForMail(toAddress('nina@example.com'));
    assert.match(resetMail.subject, /Reset your Test Gateway password/);
    const resetLink = linkIn(resetMail, '/auth/reset');
    const weak = await follow(browser(), resetLink, {
      password: 'nina12345678',
      confirm_password: 'nina12345678',
    });
    assert.equal(weak.status, 400, 'the policy is checked first');
    const reset = await follow(browser(), resetLink, {
      password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    assert.equal(reset.status, 303);
    assert.equal(reset.location, '/auth/login?done=reset');
    assert.equal((await laptop.get('/x')).status, 303, 'every session ended');
    assert.equal((await browser().signIn('nina', PASSWORD)).status, 401, 'old password rejected');
    assert.equal((await browser().signIn('nina', NEW_PASSWORD, '/')).status, 303, 'new password accepted');
  });

  test('registering from an app page returns there once the address is confirmed', async () => {
    const b = browser();
    const form = await b.get('/auth/register?return_to=%2Fwiki%2Fstart%3Fx%3D1');
    assert.match(form.body, /name="return_to" value="\/wiki\/start\?x=1"/);
    await b.post('/auth/register', {
      csrf: csrfIn(form.body),
      return_to: '/wiki/start?x=1',
      username: 'yara',
      email: 'yara@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    const link = linkIn(await smtp.waitForMail(toAddress('yara@example.com')), '/auth/verify');
    const done = await follow(b, link);
    assert.equal(done.status, 303);
    assert.equal(done.location, '/wiki/start?x=1');
  });

  test('magic link: GET and HEAD leave it valid; the POST signs in and returns to return_to; twice fails', async () => {
    await createUser(gw.store, { username: 'omar', email: 'omar@example.com', emailVerified: true });
    const b = browser();
    const asked = await b.submit('/auth/magic-link?return_to=%2Fdocs%3Fq%3D1', '/auth/magic-link', {
      identifier: 'omar@example.com',
      return_to: '/docs?q=1',
    });
    assert.equal(asked.status, 200);
    const link = linkIn(await smtp.waitForMail(toAddress('omar@example.com')), '/auth/magic');
    const path = `${link.pathname}${link.search}`;
    assert.equal((await send(`${gw.url}${path}`, { method: 'HEAD' })).status, 200);
    assert.equal((await b.get(path)).status, 200);
    const page = await b.get(path);
    assert.match(page.body, /Sign in as <strong>omar@example.com<\/strong>/);
    const signedIn = await b.post('/auth/magic', {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
    });
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.location, '/docs?q=1');
    assert.equal(up.seen.length, 0);
    assert.equal((await b.get('/docs?q=1')).status, 200);
    assert.equal(up.seen.at(-1)?.headers['x-hero-auth-method'], 'magic_link');
    const again = await b.post('/auth/magic', {
      csrf: csrfIn(page.body),
      token: link.searchParams.get('token') ?? '',
    });
    assert.equal(again.status, 404);
  });

  test('20 concurrent POSTs of one reset link: exactly one sets the password', async () => {
    await createUser(gw.store, {
      username: 'pia',
      email: 'pia@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    await browser().submit('/auth/forgot', '/auth/forgot', { identifier: 'pia' });
    const link = linkIn(await smtp.waitForMail(toAddress('pia@example.com')), '/auth/reset');
    const b = browser();
    const page = await b.get(`${link.pathname}${link.search}`);
    const csrf = csrfIn(page.body);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        b.post('/auth/reset', {
          csrf,
          token: link.searchParams.get('token') ?? '',
          password: `${NEW_PASSWORD} ${i}`,
          confirm_password: `${NEW_PASSWORD} ${i}`,
        }),
      ),
    );
    const winners = answers.map((a, i) => [a.status, i] as const).filter(([status]) => status === 303);
    assert.equal(winners.length, 1, answers.map((a) => a.status).join(','));
    assert.ok(answers.every((a) => a.status === 303 || a.status === 404));
    const i = winners[0]?.[1] as number;
    assert.equal((await browser().signIn('pia', `${NEW_PASSWORD} ${i}`, '/')).status, 303);
  });

  test('a stranger learns nothing: the same notice for known and unknown addresses, the owner is told by mail', async () => {
    await createUser(gw.store, { username: 'quinn', email: 'quinn@example.com', emailVerified: true });
    const notice = async (path: string, fields: Record<string, string>) => {
      const r = await browser().submit(path, path, fields);
      return { status: r.status, body: r.body.replace(/name="csrf" value="[^"]*"/g, '') };
    };
    assert.deepEqual(
      await notice('/auth/forgot', { identifier: 'quinn@example.com' }),
      await notice('/auth/forgot', { identifier: 'nobody@example.com' }),
    );
    assert.deepEqual(
      await notice('/auth/magic-link', { identifier: 'quinn@example.com' }),
      await notice('/auth/magic-link', { identifier: 'nobody2@example.com' }),
    );
    const taken = await notice('/auth/register', {
      username: 'quinn2',
      email: 'QUINN@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    const fresh = await notice('/auth/register', {
      username: 'rosa',
      email: 'rosa@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    assert.deepEqual(taken, fresh);
    const told = await smtp.waitForMail(
      (m) => m.to.includes('quinn@example.com') && /tried to register/.test(m.subject),
    );
    assert.match(told.text, /you already have one/);
    assert.equal(await gw.store.users.byUsername('quinn2'), null);
  });

  test('Host: evil.example on the request: the mailed link still points at public_url', async () => {
    await createUser(gw.store, { username: 'sven', email: 'sven@example.com', emailVerified: true });
    const b = new BrowserClient(gw.url, {
      host: 'evil.example',
      'x-forwarded-host': 'evil2.example',
      'x-forwarded-proto': 'https',
    });
    // Same-origin as far as the request can tell (the trusted proxy vouched for evil2.example).
    const res = await b.submit(
      '/auth/forgot',
      '/auth/forgot',
      { identifier: 'sven' },
      { origin: 'https://evil2.example' },
    );
    assert.equal(res.status, 200);
    const link = linkIn(await smtp.waitForMail(toAddress('sven@example.com')), '/auth/reset');
    assert.equal(link.origin, 'https://gw.example.com');
  });

  test('SMTP down: the answers do not change; when it is back the queued mails arrive and their links work', async () => {
    await createUser(gw.store, {
      username: 'tara',
      email: 'tara@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    const normalize = (body: string) => body.replace(/name="csrf" value="[^"]*"/g, '');
    const asks = {
      forgot: (who: string) => browser().submit('/auth/forgot', '/auth/forgot', { identifier: who }),
      magic: (who: string) => browser().submit('/auth/magic-link', '/auth/magic-link', { identifier: who }),
      register: (who: string) =>
        browser().submit('/auth/register', '/auth/register', {
          username: who.split('@')[0] as string,
          email: who,
          password: PASSWORD,
          confirm_password: PASSWORD,
        }),
    };
    const whileUp = {
      forgot: await asks.forgot('up-1@example.com'),
      magic: await asks.magic('up-2@example.com'),
      register: await asks.register('upthree@example.com'),
    };
    await smtp.stop();
    const whileDown = {
      forgot: await asks.forgot('tara'),
      magic: await asks.magic('tara@example.com'),
      register: await asks.register('uriel@example.com'),
    };
    for (const k of ['forgot', 'magic', 'register'] as const) {
      assert.equal(whileDown[k].status, whileUp[k].status, k);
      assert.equal(normalize(whileDown[k].body), normalize(whileUp[k].body), k);
    }
    await gw.gateway.outbox.runOnce(); // the sender tries, and fails, while the server is down
    assert.ok((await gw.gateway.outbox.depth()) >= 3, 'the mails wait in the outbox');
    await smtp.start();
    clock.advance(60_000); // past the retry back-off
    gw.gateway.outbox.kick();
    const mail = await smtp.waitForMail(
      (m) => m.to.includes('tara@example.com') && /Reset/.test(m.subject),
      15_000,
    );
    const reset = await follow(browser(), linkIn(mail, '/auth/reset'), {
      password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    assert.equal(reset.status, 303);
    const confirm = await smtp.waitForMail(toAddress('uriel@example.com'), 15_000);
    // Another browser than the one that registered: it confirms by typing the account's password.
    const confirmed = await follow(browser(), linkIn(confirm, '/auth/verify'), { password: PASSWORD });
    assert.equal(confirmed.status, 303);
  });

  test('links expire: a sign-in link after 15 minutes, a reset link after an hour', async () => {
    await createUser(gw.store, { username: 'zoe', email: 'zoe@example.com', emailVerified: true });
    await browser().submit('/auth/magic-link', '/auth/magic-link', { identifier: 'zoe@example.com' });
    const magic = linkIn(await smtp.waitForMail(toAddress('zoe@example.com')), '/auth/magic');
    await browser().submit('/auth/forgot', '/auth/forgot', { identifier: 'zoe' });
    const reset = linkIn(await smtp.waitForMail(toAddress('zoe@example.com')), '/auth/reset');
    clock.advance(14 * 60_000);
    assert.equal((await browser().get(`${magic.pathname}${magic.search}`)).status, 200);
    clock.advance(2 * 60_000);
    assert.equal(
      (await browser().get(`${magic.pathname}${magic.search}`)).status,
      404,
      'sign-in link: 15 min',
    );
    assert.equal((await browser().get(`${reset.pathname}${reset.search}`)).status, 200);
    clock.advance(45 * 60_000);
    assert.equal((await browser().get(`${reset.pathname}${reset.search}`)).status, 404, 'reset link: 1 h');
  });

  test('mail-sending requests are limited per address and per client (429), the same for every address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MAIL_POLICIES.address.free + 1; i++)
      statuses.push(
        (await browser().submit('/auth/forgot', '/auth/forgot', { identifier: 'limit@example.com' })).status,
      );
    assert.deepEqual(statuses, [...Array(MAIL_POLICIES.address.free).fill(200), 429]);
    const one = browser();
    const fromOne: number[] = [];
    for (let i = 0; i < MAIL_POLICIES.ip.free + 1; i++)
      fromOne.push(
        (await one.submit('/auth/magic-link', '/auth/magic-link', { identifier: `x${i}@example.com` }))
          .status,
      );
    assert.equal(fromOne.filter((x) => x === 200).length, MAIL_POLICIES.ip.free);
    assert.equal(fromOne.at(-1), 429);
    clock.advance(2 * 3600_000);
  });

  test('each queued mail is delivered once, however many delivery passes run', async () => {
    const names = ['uma', 'vic', 'wes'];
    for (const u of names) {
      await createUser(gw.store, { username: u, email: `${u}@example.com`, emailVerified: true });
      await browser().submit('/auth/forgot', '/auth/forgot', { identifier: u });
    }
    await Promise.all([
      gw.gateway.outbox.runOnce(),
      gw.gateway.outbox.runOnce(),
      gw.gateway.outbox.runOnce(),
    ]);
    for (const u of names) await smtp.waitForMail(toAddress(`${u}@example.com`));
    await gw.gateway.outbox.runOnce();
    // Kept on purpose: nothing may happen here, so there is no condition to await. One poll of the
    // background sender (1 s) must pass without a second copy of any mail.
    await new Promise((r) => setTimeout(r, 1200));
    for (const u of names) assert.equal(smtp.mails.filter(toAddress(`${u}@example.com`)).length, 1, u);
    assert.equal(await gw.gateway.outbox.depth(), 0);
  });
});
