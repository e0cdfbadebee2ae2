// The passkey use case below the pages, with no browser: a software authenticator (a P-256 key made here, "none"
// attestation) answers the options the service hands out, as a browser and a security key would, and the tests
// bend its answers the ways an attacker or a cloned key would.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { SigningKey } from '../../src/crypto/keys.ts';
import { Sealer } from '../../src/crypto/sealed.ts';
import type { User } from '../../src/ports/store.ts';
import { Passkeys, type RelyingParty } from '../../src/services/second-factor/passkeys.ts';
import { RecoveryCodes } from '../../src/services/second-factor/recovery-codes.ts';
import { SecondFactorSignIn } from '../../src/services/second-factor/sign-in.ts';
import { TotpFactors } from '../../src/services/second-factor/totp.ts';
import { createUser } from '../../src/services/users.ts';
import { startGateway, TestClock, type TestGateway } from '../helpers/gateway.ts';

const RP: RelyingParty = {
  id: 'login.example.com',
  name: 'Example Corp',
  origins: ['https://login.example.com'],
};
const ORIGIN = 'https://login.example.com';
const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

/** What an assertion or attestation is bent into; the defaults are an honest authenticator in an honest browser. */
interface Bend {
  origin?: string;
  rpId?: string;
  /** User verified (PIN, biometric); a touch (user present) is always set. */
  uv?: boolean;
  /** The counter to report instead of the next one. */
  counter?: number;
  /** The user handle to report instead of the one the credential was made for. */
  userHandle?: string | null;
  /** A signature by a key that is not the credential's. */
  forge?: boolean;
}

/** A security key in software: one credential, for one account, with a counter unless `counts` is false. */
class SoftKey {
  readonly id = randomBytes(16);
  readonly #key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  #counter: number;
  #userHandle = '';
  constructor(readonly opts: { counts: boolean } = { counts: true }) {
    this.#counter = opts.counts ? 41 : 0;
  }

  /** navigator.credentials.create() and the RegistrationResponseJSON a browser posts. */
  create(options: PublicKeyCredentialCreationOptionsJSON, bend: Bend = {}): string {
    this.#userHandle = options.user.id;
    const jwk = this.#key.publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.id, cose]);
    const authData = this.#authData(options.rp.id ?? RP.id, 0x40, bend, attested);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    return JSON.stringify({
      id: b64url(this.id),
      rawId: b64url(this.id),
      type: 'public-key',
      response: {
        clientDataJSON: this.#clientData('webauthn.create', options.challenge, bend),
        attestationObject: b64url(attestationObject),
        transports: ['usb', 'made-up'],
      },
      clientExtensionResults: { credProps: { rk: true } },
      authenticatorAttachment: 'cross-platform',
    });
  }

  /** navigator.credentials.get() and the AuthenticationResponseJSON a browser posts. */
  get(options: PublicKeyCredentialRequestOptionsJSON, bend: Bend = {}): string {
    const authData = this.#authData(options.rpId ?? RP.id, 0, bend);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, bend);
    const signed = Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]);
    const key = bend.forge
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : this.#key.privateKey;
    const handle = bend.userHandle === undefined ? this.#userHandle : bend.userHandle;
    return JSON.stringify({
      id: b64url(this.id),
      rawId: b64url(this.id),
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(sign('sha256', signed, key)),
        ...(handle === null ? {} : { userHandle: handle }),
      },
      clientExtensionResults: {},
    });
  }

  #authData(rpId: string, extraFlags: number, bend: Bend, attested = Buffer.alloc(0)): Buffer {
    if (this.opts.counts) this.#counter++;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(bend.counter ?? this.#counter);
    const flags = 0x01 | (bend.uv ? 0x04 : 0) | extraFlags;
    return Buffer.concat([sha256(Buffer.from(bend.rpId ?? rpId)), Buffer.from([flags]), counter, attested]);
  }

  #clientData(type: string, challenge: string, bend: Bend): string {
    return b64url(JSON.stringify({ type, challenge, origin: bend.origin ?? ORIGIN, crossOrigin: false }));
  }
}

describe('passkeys: the use case', () => {
  const clock = new TestClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  let gw: TestGateway;
  let passkeys: Passkeys;
  let ada: User;
  let bob: User;

  before(async () => {
    gw = await startGateway('', { clock });
    passkeys = new Passkeys({
      store: gw.store,
      clock,
      rp: () => RP,
      key: new SigningKey('test secret of enough length for hkdf', 'webauthn-challenge'),
    });
    ada = await createUser(gw.store, { username: 'ada', email: 'ada@example.com', emailVerified: true });
    bob = await createUser(gw.store, { username: 'bob', email: 'bob@example.com', emailVerified: true });
  });
  after(() => gw?.close());

  /** A key registered to `user`. */
  const enrol = async (user: User, key = new SoftKey()) => {
    const factor = await passkeys.finishRegistration(
      user,
      key.create(await passkeys.registrationOptions(user)),
      'Key',
    );
    assert.ok(factor, 'registered');
    return { key, factor };
  };

  test('register, then use as a second factor; the options say what the browser needs', async () => {
    const key = new SoftKey();
    const options = await passkeys.registrationOptions(ada);
    assert.equal(options.rp.id, RP.id);
    assert.equal(options.user.id, b64url(ada.id), 'the user handle is the user id');
    assert.equal(options.user.name, 'ada');
    assert.deepEqual(
      options.pubKeyCredParams.map((p) => p.alg),
      [-7, -257],
    );
    assert.equal(options.attestation, 'none');
    assert.equal(options.timeout, 5 * 60_000);
    assert.deepEqual(options.excludeCredentials, []);

    const factor = await passkeys.finishRegistration(ada, key.create(options), 'YubiKey');
    assert.ok(factor);
    assert.equal(factor.kind, 'webauthn');
    assert.equal(factor.name, 'YubiKey');
    assert.equal(factor.userId, ada.id);
    assert.notEqual(factor.confirmedAt, null);
    assert.equal(factor.webauthn?.credentialId, b64url(key.id));
    assert.equal(factor.webauthn?.signCount, 42);
    assert.deepEqual(factor.webauthn?.transports, ['usb'], 'only transports the spec names');
    assert.equal(factor.webauthn?.discoverable, true, 'credProps said rk');

    const request = await passkeys.authenticationOptions(ada);
    assert.deepEqual(
      request.allowCredentials?.map((c) => c.id),
      [b64url(key.id)],
    );
    assert.equal(request.userVerification, 'preferred');
    const use = await passkeys.verifyAuthentication(key.get(request), ada);
    assert.equal(use?.factor.id, factor.id);
    assert.equal(use?.userVerified, false, 'a touch is enough for a second factor');
    assert.equal(use?.backedUp, false);
    assert.equal((await gw.store.secondFactors.byId(factor.id))?.webauthn?.signCount, 43);

    const again = await passkeys.registrationOptions(ada);
    assert.deepEqual(
      again.excludeCredentials?.map((c) => c.id),
      [b64url(key.id)],
    );
    assert.equal(
      await passkeys.finishRegistration(ada, key.create(again), 'Twice'),
      null,
      'not stored twice',
    );
  });

  test('a challenge answers one response: a replay, or a good answer after a forged one, is refused', async () => {
    const { key } = await enrol(ada);
    const response = key.get(await passkeys.authenticationOptions(ada));
    assert.ok(await passkeys.verifyAuthentication(response, ada));
    assert.equal(await passkeys.verifyAuthentication(response, ada), null, 'replayed');
    // A key that keeps no counter: only the used-up challenge stops the same response working twice.
    const { key: plain } = await enrol(ada, new SoftKey({ counts: false }));
    const plainResponse = plain.get(await passkeys.authenticationOptions(ada));
    assert.ok(await passkeys.verifyAuthentication(plainResponse, ada));
    assert.equal(await passkeys.verifyAuthentication(plainResponse, ada), null, 'replayed, no counter');

    const options = await passkeys.authenticationOptions(ada);
    assert.equal(await passkeys.verifyAuthentication(key.get(options, { forge: true }), ada), null, 'forged');
    assert.equal(await passkeys.verifyAuthentication(key.get(options), ada), null, 'its challenge is gone');

    const registration = key.create(await passkeys.registrationOptions(bob));
    assert.equal(
      await passkeys.finishRegistration(bob, registration, 'K'),
      null,
      'already registered to ada',
    );
    assert.equal(await passkeys.finishRegistration(bob, registration, 'K'), null);

    const stale = await passkeys.authenticationOptions(ada);
    clock.advance(5 * 60_000 + 1);
    assert.equal(await passkeys.verifyAuthentication(key.get(stale), ada), null, 'expired');
    const reg = await passkeys.registrationOptions(ada);
    assert.equal(await passkeys.verifyAuthentication(key.get(reg), ada), null, 'a registration challenge');
  });

  test('password-less: any passkey of the site, but only with the user verified', async () => {
    const { key, factor } = await enrol(bob);
    const options = await passkeys.authenticationOptions(null);
    assert.equal(options.allowCredentials, undefined, 'discoverable credentials');
    assert.equal(options.userVerification, 'required');
    assert.equal(await passkeys.verifyAuthentication(key.get(options), null), null, 'a touch only');

    const use = await passkeys.verifyAuthentication(
      key.get(await passkeys.authenticationOptions(null), { uv: true }),
      null,
    );
    assert.equal(use?.factor.id, factor.id);
    assert.equal(use?.factor.userId, bob.id, 'the credential says who signs in');
    assert.equal(use?.userVerified, true);

    const other = b64url(ada.id);
    const mismatched = key.get(await passkeys.authenticationOptions(null), { uv: true, userHandle: other });
    assert.equal(await passkeys.verifyAuthentication(mismatched, null), null, "another account's handle");
    const noHandle = key.get(await passkeys.authenticationOptions(null), { uv: true, userHandle: null });
    assert.ok(await passkeys.verifyAuthentication(noHandle, null), 'no handle: the credential id decides');
    const adasChallenge = key.get(await passkeys.authenticationOptions(ada), { uv: true });
    assert.equal(
      await passkeys.verifyAuthentication(adasChallenge, null),
      null,
      "ada's challenge, bob's key",
    );
  });

  test('the counter only moves forward (a cloned key); a key that keeps none stays at 0', async () => {
    const { key, factor } = await enrol(ada);
    assert.ok(await passkeys.verifyAuthentication(key.get(await passkeys.authenticationOptions(ada)), ada));
    const count = (await gw.store.secondFactors.byId(factor.id))?.webauthn?.signCount as number;
    assert.ok(count > 0);
    for (const counter of [count, count - 1, 0]) {
      const cloned = key.get(await passkeys.authenticationOptions(ada), { counter });
      assert.equal(await passkeys.verifyAuthentication(cloned, ada), null, `counter ${counter}`);
    }
    assert.equal((await gw.store.secondFactors.byId(factor.id))?.webauthn?.signCount, count, 'unchanged');
    assert.ok(await passkeys.verifyAuthentication(key.get(await passkeys.authenticationOptions(ada)), ada));

    const { key: plain } = await enrol(ada, new SoftKey({ counts: false }));
    for (let i = 0; i < 2; i++)
      assert.ok(
        await passkeys.verifyAuthentication(plain.get(await passkeys.authenticationOptions(ada)), ada),
      );
  });

  test("another user's credential, a wrong origin or RP ID, or another user's challenge: refused", async () => {
    const { key: bobs } = await enrol(bob);
    const { key: adas } = await enrol(ada);
    const asAda = bobs.get(await passkeys.authenticationOptions(ada));
    assert.equal(await passkeys.verifyAuthentication(asAda, ada), null, "bob's key as ada's second factor");

    for (const bend of [
      { origin: 'https://evil.example' },
      { origin: 'http://login.example.com' },
      { rpId: 'evil.example' },
    ]) {
      const get = adas.get(await passkeys.authenticationOptions(ada), bend);
      assert.equal(await passkeys.verifyAuthentication(get, ada), null, JSON.stringify(bend));
      const create = new SoftKey().create(await passkeys.registrationOptions(ada), bend);
      assert.equal(await passkeys.finishRegistration(ada, create, 'K'), null, JSON.stringify(bend));
    }
    const forBob = new SoftKey().create(await passkeys.registrationOptions(bob));
    assert.equal(await passkeys.finishRegistration(ada, forBob, 'K'), null, "bob's registration challenge");
  });

  test('garbage is a null, never an exception', async () => {
    const options = await passkeys.authenticationOptions(ada);
    const valid = JSON.parse(new SoftKey().get(options));
    const junk = [
      '',
      'null',
      '{',
      '[]',
      '"x"',
      '{"id":1}',
      'x'.repeat(100_000),
      JSON.stringify({ ...valid, rawId: 'other' }),
      JSON.stringify({ ...valid, response: { ...valid.response, clientDataJSON: '!!!' } }),
      JSON.stringify({ ...valid, response: { ...valid.response, clientDataJSON: b64url('not json') } }),
      JSON.stringify({ ...valid, response: { ...valid.response, signature: 5 } }),
      JSON.stringify({ ...valid, response: { ...valid.response, authenticatorData: b64url('short') } }),
      JSON.stringify({ ...valid, response: { clientDataJSON: valid.response.clientDataJSON } }),
    ];
    for (const input of junk) {
      assert.equal(await passkeys.verifyAuthentication(input, ada), null, input.slice(0, 80));
      assert.equal(await passkeys.verifyAuthentication(input, null), null, input.slice(0, 80));
      assert.equal(await passkeys.finishRegistration(ada, input, 'K'), null, input.slice(0, 80));
    }
    const registration = JSON.parse(new SoftKey().create(await passkeys.registrationOptions(ada)));
    registration.response.attestationObject = b64url('junk');
    assert.equal(await passkeys.finishRegistration(ada, JSON.stringify(registration), 'K'), null);
  });

  test('wrong codes that lock the account out of codes do not keep its passkey out', async () => {
    const carl = await createUser(gw.store, {
      username: 'carl',
      email: 'carl@example.com',
      emailVerified: true,
    });
    const { key } = await enrol(carl);
    const secret = 'test secret of enough length for hkdf';
    const signIn = new SecondFactorSignIn({
      store: gw.store,
      clock,
      passkeys,
      totp: new TotpFactors({
        store: gw.store,
        clock,
        sealer: new Sealer(secret, 'second-factor'),
        issuer: () => 'Test',
      }),
      recovery: new RecoveryCodes({ store: gw.store, clock }),
      // Reached only by the policy 'required_for_admins' and by recovery codes; neither is used here.
      claims: undefined as never,
      links: undefined as never,
      policy: () => 'optional',
    });
    // Someone holding the password runs the account's count up from many networks.
    let last = await signIn.code(carl, '000000', '203.0.113.1');
    for (let i = 2; i <= 8 && last.kind !== 'throttled'; i++)
      last = await signIn.code(carl, '000000', `203.0.${i}.1`);
    assert.equal(last.kind, 'throttled', 'codes are throttled per account');
    assert.equal((await signIn.code(carl, '000000', '198.51.100.7')).kind, 'throttled');
    // The owner's key, from the owner's network, still gets in: a signature cannot be guessed.
    const answer = key.get(await passkeys.authenticationOptions(carl));
    assert.deepEqual(await signIn.passkey(carl, answer, '198.51.100.7'), { kind: 'ok', factor: 'passkey' });
  });
});
