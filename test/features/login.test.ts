// Password sign-in: no account oracle, throttling in the store, long passwords, unverified addresses, rehash.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hash } from '@node-rs/argon2';
import { hashPassword } from '../../src/crypto/password.ts';
import { THROTTLE_POLICIES } from '../../src/services/throttle.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient, csrfIn, type Response } from '../helpers/browser-client.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { storeRows } from '../helpers/store-sql.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';

describe('password sign-in', () => {
  let up: Upstream;
  let gw: TestGateway;
  let clock: TestClock;

  before(async () => {
    up = await startUpstream();
    clock = new TestClock(Date.now());
    gw = await startGateway(
      `
[[route]]
name = "app"
upstream = "${up.url}"
auth = "local"
`,
      { clock, server: 'trusted_proxies = ["127.0.0.1"]' },
    );
    const passwordHash = await hashPassword(PASSWORD);
    await createUser(gw.store, {
      username: 'carol',
      email: 'carol@example.com',
      emailVerified: true,
      passwordHash,
    });
    const dave = await createUser(gw.store, {
      username: 'dave',
      email: 'dave@example.com',
      emailVerified: true,
      passwordHash,
    });
    await gw.store.users.setDisabled(dave.id, clock.now());
    await createUser(gw.store, {
      username: 'erin',
      email: 'erin@example.com',
      emailVerified: false,
      passwordHash,
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  /** A browser at a given client address (the gateway trusts X-Forwarded-For from 127.0.0.1 here). */
  const browserAt = (ip: string) => new BrowserClient(gw.url, { 'x-forwarded-for': ip });
  let ipCounter = 0;
  const freshIp = () => `198.51.100.${++ipCounter}`;

  /** The answer without what the browser itself typed as the username (it comes back in the form). */
  const comparable = (r: Response, typed = '') => ({
    status: r.status,
    body: r.body.replace(
      `name="username" type="text" autocomplete="username" required value="${typed}"`,
      'TYPED',
    ),
    setCookies: r.setCookies,
    type: r.headers['content-type'],
  });

  test('unknown user, wrong password and disabled account get the identical answer', async () => {
    const b = browserAt(freshIp());
    await b.get('/auth/login'); // the CSRF cookie, once, so every answer below is made with the same one
    const attempts = [
      ['nobody', PASSWORD],
      ['carol', 'wrong password entirely'],
      ['dave', PASSWORD],
      ['nobody@example.com', PASSWORD],
      ['carol@example.com', 'wrong password entirely'],
    ];
    const answers: Response[] = [];
    for (const [username, password] of attempts)
      answers.push(
        await b.submit('/auth/login', '/auth/login', {
          username: username as string,
          password: password as string,
        }),
      );
    for (const a of answers) {
      assert.equal(a.status, 401);
      const i = answers.indexOf(a);
      assert.deepEqual(comparable(a, attempts[i]?.[0]), comparable(answers[0] as Response, attempts[0]?.[0]));
    }
    assert.deepEqual(answers[0]?.setCookies, [], 'a failed sign-in sets no cookie');
    assert.match(answers[0]?.body ?? '', /role="alert"[^>]*>The username or password is wrong\./);
    // The typed name comes back only in the form, for this browser to correct, the same for every kind of miss.
    assert.equal(answers[1]?.body.split('carol').length, 2, 'carol appears once: as the field value');
    assert.match(answers[1]?.body ?? '', /id="f-username"[^>]*value="carol"/);
    assert.equal(up.seen.length, 0);
  });

  test('an unknown user costs the same argon2 work as a wrong password', async () => {
    const timeOf = async (username: string) => {
      const b = browserAt(freshIp());
      const form = await b.get('/auth/login');
      const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] as string;
      const t0 = performance.now();
      await b.post('/auth/login', { csrf, username, password: 'wrong password entirely' });
      return performance.now() - t0;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 5; i++) {
      unknown.push(await timeOf(`ghost${i}`));
      known.push(await timeOf('carol'));
    }
    const [u, k] = [median(unknown), median(known)];
    // Both run one full argon2id verification (tens of ms); without the dummy hash an unknown name takes ~1 ms.
    assert.ok(u > k / 3 && u < k * 3, `unknown ${u.toFixed(1)} ms vs known ${k.toFixed(1)} ms`);
  });

  test('sign-in by email works, and an unverified address is told so only with the right password', async () => {
    const b = browserAt(freshIp());
    assert.equal((await b.signIn('CAROL@example.com', PASSWORD, '/')).status, 303);
    const e = browserAt(freshIp());
    const wrong = await e.signIn('erin', 'wrong password entirely');
    assert.equal(wrong.status, 401);
    const right = await e.signIn('erin', PASSWORD);
    assert.equal(right.status, 403);
    assert.match(right.body, /Confirm your email address/);
    assert.ok(!right.setCookies.some((c) => c.includes('hero_session')));
  });

  test('after the free attempts an address gets 429 with Retry-After; the owner can still sign in elsewhere', async () => {
    const attackerIp = freshIp();
    const attacker = browserAt(attackerIp);
    const free = THROTTLE_POLICIES.accountIp.free;
    for (let i = 0; i < free; i++)
      assert.equal((await attacker.signIn('carol', `guess number ${i}`)).status, 401, `attempt ${i + 1}`);
    const blocked = await attacker.signIn('carol', PASSWORD);
    assert.equal(blocked.status, 429, 'even the right password waits');
    assert.equal(blocked.headers['retry-after'], '2');
    assert.match(blocked.body, /Too many attempts\. Try again in 2 seconds\./);
    assert.ok(!blocked.setCookies.some((c) => c.includes('hero_session')));
    // The back-off doubles with each further failure.
    clock.advance(2_000);
    assert.equal((await attacker.signIn('carol', 'another guess')).status, 401);
    assert.equal((await attacker.signIn('carol', 'another guess')).headers['retry-after'], '4');
    // The owner, from their own address, is not locked out by the attacker's burst.
    const owner = browserAt(freshIp());
    const res = await owner.signIn('carol', PASSWORD, '/');
    assert.equal(res.status, 303);
    // Unknown accounts are throttled the same way: the limit is no account oracle.
    const prober = browserAt(freshIp());
    for (let i = 0; i < free; i++) await prober.signIn('ghost', `guess ${i}`);
    assert.equal((await prober.signIn('ghost', 'again')).status, 429);
    clock.advance(20 * 60_000);
  });

  test('many addresses against one account: strangers are slowed, a browser that signed in before is not', async () => {
    const owner = browserAt(freshIp());
    assert.equal((await owner.signIn('carol', PASSWORD, '/')).status, 303);
    await owner.submit('/auth/logout', '/auth/logout', {});
    const perAccount = THROTTLE_POLICIES.account.free;
    const perIp = THROTTLE_POLICIES.accountIp.free - 1;
    for (let sent = 0; sent < perAccount; ) {
      const bot = browserAt(freshIp());
      for (let i = 0; i < perIp && sent < perAccount; i++, sent++)
        await bot.signIn('carol', `bot guess ${sent}`);
    }
    const stranger = browserAt(freshIp());
    assert.equal((await stranger.signIn('carol', PASSWORD)).status, 429, 'a new browser waits');
    const back = await owner.signIn('carol', PASSWORD, '/');
    assert.equal(back.status, 303, 'the owner’s known browser signs in');
    clock.advance(2 * 3600_000);
  });

  test('throttle counters live in the store: another process on it (or a restart) still refuses', async () => {
    const ip = freshIp();
    const b = browserAt(ip);
    for (let i = 0; i < THROTTLE_POLICIES.accountIp.free; i++) await b.signIn('carol', `x${i}`);
    const restarted = await startGateway(
      `[store]\nurl = "${gw.config.store.url}"\n[[route]]\nname = "app"\nupstream = "${up.url}"\nauth = "local"\n`,
      { clock, server: 'trusted_proxies = ["127.0.0.1"]' },
    );
    try {
      const again = new BrowserClient(restarted.url, { 'x-forwarded-for': ip });
      assert.equal((await again.signIn('carol', PASSWORD)).status, 429);
      const elsewhere = new BrowserClient(restarted.url, { 'x-forwarded-for': freshIp() });
      assert.equal((await elsewhere.signIn('carol', PASSWORD, '/')).status, 303);
    } finally {
      await restarted.close();
    }
    clock.advance(2 * 3600_000);
  });

  test('a password over 1024 characters is refused with 400 before any hashing', async () => {
    const b = browserAt(freshIp());
    const form = await b.get('/auth/login');
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] as string;
    const t0 = performance.now();
    const res = await b.post('/auth/login', { csrf, username: 'carol', password: 'é'.repeat(1025) });
    const ms = performance.now() - t0;
    assert.equal(res.status, 400);
    assert.match(res.body, /at most 1024 characters/);
    assert.ok(ms < 20, `answered in ${ms.toFixed(1)} ms, without argon2`);
    const json = await b.post(
      '/auth/login',
      { csrf, username: 'carol', password: 'x'.repeat(1025) },
      { accept: 'application/json' },
    );
    assert.equal(JSON.parse(json.body).code, 'password_too_long');
    const ok1024 = await b.post('/auth/login', { csrf, username: 'carol', password: 'x'.repeat(1024) });
    assert.equal(ok1024.status, 401, '1024 characters are accepted (and wrong)');
  });

  test('a hash made with weaker parameters is upgraded at sign-in', async () => {
    const weak = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const frank = await createUser(gw.store, {
      username: 'frank',
      email: 'frank@example.com',
      emailVerified: true,
      passwordHash: weak,
    });
    assert.equal((await browserAt(freshIp()).signIn('frank', PASSWORD, '/')).status, 303);
    // The rehash is written after the answer: await it.
    const upgraded = await until(
      async () => {
        const hash = (await gw.store.users.passwordHash(frank.id)) ?? '';
        return hash.includes('m=19456') && hash;
      },
      { what: 'the rehashed password', timeoutMs: 5_000 },
    ).catch(async () => (await gw.store.users.passwordHash(frank.id)) ?? '');
    assert.match(upgraded, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(
      (await browserAt(freshIp()).signIn('frank', PASSWORD, '/')).status,
      303,
      'and still signs in',
    );
  });

  test('NFKC: a password typed in another Unicode form is the same password', async () => {
    await createUser(gw.store, {
      username: 'gina',
      email: 'gina@example.com',
      emailVerified: true,
      passwordHash: await hashPassword('caf\u00e9 au lait, s\u2019il vous pla\u00eet'),
    });
    const res = await browserAt(freshIp()).signIn(
      'gina',
      'cafe\u0301 au lait, s\u2019il vous pla\u0069\u0302t',
      '/',
    );
    assert.equal(res.status, 303);
  });

  test('a burst of parallel guesses is counted as it arrives: exactly the free attempts are checked', async () => {
    const b = browserAt(freshIp());
    const csrf = csrfIn((await b.get('/auth/login')).body);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        b.post('/auth/login', { csrf, username: 'carol', password: `parallel ${i}` }),
      ),
    );
    const counts: Record<number, number> = {};
    for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
    assert.deepEqual(counts, {
      401: THROTTLE_POLICIES.accountIp.free,
      429: 60 - THROTTLE_POLICIES.accountIp.free,
    });
    clock.advance(2 * 3600_000);
  });

  test('the limits do not link a username to its email, or tell known names from unknown ones', async () => {
    const free = THROTTLE_POLICIES.accountIp.free;
    const answersFor = async (name: string, email: string) => {
      const b = browserAt(freshIp());
      for (let i = 0; i < free; i++) await b.signIn(name, `guess ${i}`);
      return (await b.signIn(email, 'one more guess')).status;
    };
    assert.equal(await answersFor('carol', 'carol@example.com'), 401);
    assert.equal(await answersFor('mallory', 'mallory@example.com'), 401);
    clock.advance(2 * 3600_000);
  });

  test('IPv6 clients are counted by /64: rotating addresses inside one network gains nothing', async () => {
    const free = THROTTLE_POLICIES.accountIp.free;
    const statuses: number[] = [];
    for (let i = 1; i <= free + 1; i++)
      statuses.push(
        (await browserAt(`2001:db8:1:2::${i.toString(16)}`).signIn('carol', `v6 guess ${i}`)).status,
      );
    assert.deepEqual(statuses, [...Array(free).fill(401), 429]);
    assert.equal(
      (await browserAt('2001:db8:1:3::1').signIn('carol', PASSWORD, '/')).status,
      303,
      'the next /64 is another network',
    );
    clock.advance(2 * 3600_000);
  });

  test('a 60 kB username is refused like any other and costs a short counter', async () => {
    const b = browserAt(freshIp());
    assert.equal((await b.signIn('u'.repeat(60_000), 'whatever it is')).status, 401);
    const [row] = await storeRows<{ longest: number }>(
      gw.config.store.url,
      'SELECT MAX(LENGTH(key)) AS longest FROM throttles',
    );
    const longest = Number(row?.longest);
    assert.ok(longest < 120, `longest throttle key: ${longest}`);
  });

  test('a device cookie from before a password change no longer lifts the account-wide limit', async () => {
    const hank = await createUser(gw.store, {
      username: 'hank',
      email: 'hank@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    const owner = browserAt(freshIp());
    assert.equal((await owner.signIn('hank', PASSWORD, '/')).status, 303);
    const oldDevice = owner.jar.get('__Host-hero_device') as string;
    await owner.submit('/auth/logout', '/auth/logout', {});
    clock.advance(1000);
    await gw.store.users.setPasswordHash(hank.id, await hashPassword(`${PASSWORD} 2`));
    // A botnet spends the account-wide allowance.
    for (let sent = 0; sent < THROTTLE_POLICIES.account.free; ) {
      const bot = browserAt(freshIp());
      for (
        let i = 0;
        i < THROTTLE_POLICIES.accountIp.free - 1 && sent < THROTTLE_POLICIES.account.free;
        i++, sent++
      )
        await bot.signIn('hank', `bot ${sent}`);
    }
    const thief = browserAt(freshIp());
    thief.jar.set('__Host-hero_device', oldDevice);
    assert.equal((await thief.signIn('hank', 'a guess')).status, 429, 'the old proof is void');
    clock.advance(2 * 3600_000);
  });
});
