// The second-factor use cases below the pages: authenticator-app enrolment and challenges (codes computed from
// the secret the enrolment shows, as an app would), replay and window rules, and recovery codes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sealer } from '../../src/crypto/sealed.ts';
import type { User } from '../../src/ports/store.ts';
import { RecoveryCodes } from '../../src/services/second-factor/recovery-codes.ts';
import { TotpFactors } from '../../src/services/second-factor/totp.ts';
import { createUser } from '../../src/services/users.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';
import { codeAt as appCode } from '../helpers/totp.ts';

const STEP = 30_000;

describe('second factors: the use cases', () => {
  const clock = new TestClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  let gw: TestGateway;
  let totp: TotpFactors;
  let recovery: RecoveryCodes;
  let ada: User;

  before(async () => {
    gw = await startGateway('', { clock });
    const sealer = new Sealer('s'.repeat(48), 'second-factor');
    totp = new TotpFactors({ store: gw.store, sealer, clock, issuer: () => 'Example Corp' });
    recovery = new RecoveryCodes({ store: gw.store, clock });
    ada = await createUser(gw.store, { username: 'ada', email: 'ada@example.com', emailVerified: true });
  });
  after(() => gw?.close());

  test('authenticator app: counts once confirmed; a code works once, within one step either side, never older', async () => {
    const { factor, secret, uri } = await totp.begin(ada, 'Phone');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(uri, /^otpauth:\/\/totp\/Example%20Corp:ada\?/);
    assert.match(uri, new RegExp(`secret=${secret}`));
    assert.match(uri, /algorithm=SHA1&digits=6&period=30/);
    const stored = await gw.store.secondFactors.byId(factor.id);
    assert.ok(stored?.totp && !stored.totp.sealedSecret.includes(secret), 'the secret is sealed at rest');

    assert.equal(
      await totp.verify(ada, appCode(secret, clock.now())),
      null,
      'not confirmed: no challenge passes',
    );
    assert.equal(await totp.confirm(ada, factor.id, '000000'), false, 'a wrong code confirms nothing');
    const confirming = appCode(secret, clock.now());
    assert.equal(await totp.confirm(ada, factor.id, confirming), true);
    assert.equal(await totp.verify(ada, confirming), null, 'the confirming code is used up');

    clock.advance(STEP);
    const code = appCode(secret, clock.now());
    assert.equal((await totp.verify(ada, code.replace(/(\d{3})/, '$1 ')))?.id, factor.id, 'as apps group it');
    assert.equal(await totp.verify(ada, code), null, 'the same code again');

    clock.advance(5 * STEP);
    assert.equal(await totp.verify(ada, appCode(secret, clock.now() - 2 * STEP)), null, 'two steps old');
    assert.equal(
      (await totp.verify(ada, appCode(secret, clock.now() - STEP)))?.id,
      factor.id,
      'one step old',
    );
    assert.equal((await totp.verify(ada, appCode(secret, clock.now())))?.id, factor.id, 'a newer step');
    assert.equal(await totp.verify(ada, appCode(secret, clock.now() - STEP)), null, 'older than one used');
    clock.advance(STEP);
    assert.equal(
      (await totp.verify(ada, appCode(secret, clock.now() + STEP)))?.id,
      factor.id,
      'one step ahead',
    );
    for (const junk of ['', '12345', '1234567', 'abcdef', '12345x'])
      assert.equal(await totp.verify(ada, junk), null, junk);
  });

  test('recovery codes: ten, each works once, in any case and with or without the dash; regenerating voids the old', async () => {
    const codes = await recovery.regenerate(ada);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    assert.equal(await recovery.left(ada), 10);
    const [first, second] = codes as [string, string];
    assert.equal(await recovery.use(ada, first.toLowerCase().replace('-', ' ')), true);
    assert.equal(await recovery.use(ada, first), false, 'never twice');
    assert.equal(await recovery.left(ada), 9);
    assert.equal(await recovery.use(ada, 'AAAAA-AAAAA'), false);
    await recovery.regenerate(ada);
    assert.equal(await recovery.use(ada, second), false, 'replaced');
    assert.equal(await recovery.left(ada), 10);
  });
});
