// The second factor against someone who already has the password and races the owner: a sign-in whose check
// ran just before the owner's first factor was added, a young one-factor session left over from such a race,
// API tokens minted before the factor, and new recovery codes made behind the owner's back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashPassword } from '../../src/crypto/password.ts';
import type { User } from '../../src/ports/store.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, send } from '../helpers/browser-client.ts';
import { auditEvents, startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { type Smtp, startSmtp } from '../helpers/smtp.ts';
import { codeAt, factorIdIn, secretIn } from '../helpers/totp.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';

describe('second factor: racing the owner', () => {
  let up: Upstream;
  let smtp: Smtp;
  let gw: TestGateway;
  let clock: TestClock;
  let tokens: ApiTokenService;
  let n = 0;
  const browser = () => new BrowserClient(gw.url, { 'x-forwarded-for': `198.51.100.${++n}` });

  before(async () => {
    up = await startUpstream();
    smtp = await startSmtp();
    clock = new TestClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
    gw = await startGateway(
      `
[mail]
smtp_url = "${smtp.url}"
[[route]]
name = "app"
path = "/app"
upstream = "${up.url}"
auth = "local"
[[route]]
name = "api"
path = "/api"
upstream = "${up.url}"
auth = "bearer"
`,
      { clock, server: 'trusted_proxies = ["127.0.0.1"]' },
    );
    tokens = new ApiTokenService(gw.store, clock);
  });
  after(async () => {
    await gw.close();
    await smtp.close();
    await up.close();
  });

  const newUser = async (username: string): Promise<User> =>
    createUser(gw.store, {
      username,
      email: `${username}@example.com`,
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
  /** A confirmed passkey written straight to the store: the owner's enrolment, as another process made it. */
  const ownersPasskey = (user: User) =>
    gw.store.secondFactors.create(
      {
        kind: 'webauthn',
        userId: user.id,
        name: "Owner's key",
        credential: {
          credentialId: `cred-${user.username}`,
          publicKey: 'pQECAyYgASFYIA',
          signCount: 0,
          transports: ['usb'],
          discoverable: true,
        },
        confirmedAt: clock.now(),
      },
      clock.now(),
    );
  const audited = (action: string) => auditEvents(gw, action);
  const bearer = async (token: string) =>
    (await send(`${gw.url}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status;

  test('a sign-in whose check ran before the owner added a first factor ends up held, not signed in', async () => {
    const fay = await newUser('fay');
    const sessions = gw.store.sessions;
    const create = sessions.create;
    // Between the sign-in's "no factor needed" and its session being written, the owner adds a passkey and
    // its sweep of other sessions runs (finding none yet).
    sessions.create = async (...args) => {
      sessions.create = create;
      await ownersPasskey(fay);
      await sessions.revokeAllForUser(fay.id, clock.now());
      return create.apply(sessions, args);
    };
    try {
      const b = browser();
      const r = await b.signIn('fay', PASSWORD, '/app/');
      assert.equal(r.status, 303);
      assert.match(String(r.location), /\/auth\/mfa$/, 'sent to the second step');
      assert.equal((await b.get('/app/')).status, 303, 'no session reaches the app');
      assert.equal((await b.get('/auth/mfa')).status, 200, 'the sign-in is held for the factor');
      assert.equal(up.seen.length, 0);
    } finally {
      sessions.create = create;
    }
  });

  test('a young session that passed one factor cannot change the factors the account now has', async () => {
    const gil = await newUser('gil');
    const b = browser();
    await b.signIn('gil', PASSWORD, '/app/');
    assert.equal((await b.get('/app/')).status, 200);
    // The race above lost the other way: this session was written after the owner's sweep, and survived.
    const owners = await ownersPasskey(gil);
    const page = await b.get('/auth/account/security');
    assert.equal(page.status, 200);
    assert.match(page.body, /Confirm it.s you to make changes/);
    for (const [path, fields] of [
      ['/auth/account/security/remove', { factor_id: owners.id }],
      ['/auth/account/security/recovery', {}],
      ['/auth/account/security/totp', {}],
    ] as const) {
      const r = await b.post(path, { csrf: csrfIn(page.body), ...fields });
      assert.equal(r.status, 403, `${path}: ${r.body.slice(0, 200)}`);
    }
    const left = await gw.store.secondFactors.listForUser(gil.id);
    assert.deepEqual(
      left.map((f) => f.id),
      [owners.id],
      "the owner's factor stays, and no other was added",
    );
    assert.equal(await gw.store.secondFactors.recoveryCodesLeft(gil.id), 0);
  });

  test('API tokens made before the first factor end with it; those made after survive a second one', async () => {
    const hal = await newUser('hal');
    const early = await tokens.issue({
      userId: hal.id,
      name: 'made with the password',
      claims: null,
      expiresAt: null,
    });
    assert.equal(await bearer(early.token), 200);
    clock.advance(60_000);
    const b = browser();
    await b.signIn('hal', PASSWORD, '/app/');
    /** Adds an authenticator app through the pages; the first comes with recovery codes (200), later ones not. */
    const addApp = async (name: string, status: number) => {
      const page = await b.get('/auth/account/security');
      const begun = await b.post('/auth/account/security/totp', { csrf: csrfIn(page.body) });
      assert.equal(begun.status, 200, begun.body.slice(0, 300));
      const done = await b.post('/auth/account/security/totp/confirm', {
        csrf: csrfIn(begun.body),
        factor_id: factorIdIn(begun.body),
        name,
        code: codeAt(secretIn(begun.body), clock.now()),
      });
      assert.equal(done.status, status, done.body.slice(0, 300));
    };
    await addApp('Phone', 200);
    assert.equal((await b.get('/app/')).status, 200);
    assert.equal(
      up.seen.at(-1)?.headers['x-hero-auth-method'],
      'password+totp',
      'the session that added the factor goes on as one that passed it',
    );
    assert.equal(await bearer(early.token), 401, 'a one-factor token ends with the first factor');
    const mail = await smtp.waitForMail(
      (m) => m.to.includes('hal@example.com') && /was added/.test(m.subject),
    );
    assert.match(mail.text, /1 API token was revoked/);
    assert.equal((await audited('second_factor.add')).at(-1)?.detail.tokens_revoked, 1);

    clock.advance(60_000);
    const late = await tokens.issue({ userId: hal.id, name: 'made after', claims: null, expiresAt: null });
    clock.advance(31_000);
    await addApp('Tablet', 303);
    assert.equal(await bearer(late.token), 200, 'made while the account had a factor: kept');
    assert.equal((await audited('second_factor.add')).at(-1)?.detail.tokens_revoked, 0);
  });

  test('new recovery codes are mailed to the owner', async () => {
    await newUser('ida');
    const b = browser();
    await b.signIn('ida', PASSWORD, '/app/');
    const page = await b.get('/auth/account/security');
    const r = await b.post('/auth/account/security/recovery', { csrf: csrfIn(page.body) });
    assert.equal(r.status, 200, r.body.slice(0, 300));
    const mail = await smtp.waitForMail(
      (m) => m.to.includes('ida@example.com') && /New recovery codes/.test(m.subject),
    );
    assert.match(mail.text, /the old ones no longer work/);
  });
});
