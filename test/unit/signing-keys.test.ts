// The rules of assertion signing keys, as pure functions: which key signs when, what a key's status is and
// when it may be removed, and that the sealed private half opens only under its own secret and row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { generateSigningKey, SigningKeySet, signingKeyAt } from '../../src/crypto/signing-keys.ts';
import { describeKeys, KEY_RETIRE_GRACE_MS } from '../../src/services/signing-key-admin.ts';
import { SigningKeySealer, SigningKeySecretError } from '../../src/services/signing-key-seal.ts';

const SECRET = 'a server secret of at least thirty-two bytes';
const T = Date.UTC(2026, 0, 1);

test('the key that signs: the newest already active; before any is active, the earliest; ties by kid', () => {
  const keys = [
    { kid: 'a', activeFrom: T },
    { kid: 'b', activeFrom: T + 100 },
    { kid: 'c', activeFrom: T + 200 },
  ];
  for (const [now, kid] of [
    [T - 1, 'a'],
    [T, 'a'],
    [T + 99, 'a'],
    [T + 100, 'b'],
    [T + 10_000, 'c'],
  ] as const)
    assert.equal(signingKeyAt(keys, now).kid, kid, `at T${now - T >= 0 ? '+' : ''}${now - T}`);
  assert.equal(
    signingKeyAt(
      [
        { kid: 'y', activeFrom: T },
        { kid: 'x', activeFrom: T },
      ],
      T,
    ).kid,
    'y',
  );
});

test('a key set publishes every key and signs with the one active at the instant given', async () => {
  const set = new SigningKeySet([
    { kid: 'old', activeFrom: T, privateJwk: generateSigningKey().privateJwk },
    { kid: 'new', activeFrom: T + 60_000, privateJwk: generateSigningKey().privateJwk },
  ]);
  assert.deepEqual(
    set.jwks.keys.map((k) => [k.kid, k.alg, k.use, 'd' in k]),
    [
      ['old', 'ES256', 'sig', false],
      ['new', 'ES256', 'sig', false],
    ],
  );
  const jwks = createLocalJWKSet(set.jwks);
  for (const [now, kid] of [
    [T + 59_999, 'old'],
    [T + 60_000, 'new'],
  ] as const) {
    const jwt = set.signJwt({ sub: 'u', exp: Math.floor(now / 1000) + 60 }, now);
    assert.equal(decodeProtectedHeader(jwt).kid, kid);
    await jwtVerify(jwt, jwks, { currentDate: new Date(now) });
  }
});

test('key status: signing, next, retired; a retired key goes only after what it signed has expired', () => {
  const row = (kid: string, activeFrom: number) => ({
    kid,
    createdAt: T,
    activeFrom,
    publicJwk: {},
    sealedPrivateJwk: '',
  });
  const views = describeKeys([row('c', T + 120_000), row('a', T), row('b', T + 60_000)], T + 61_000);
  assert.deepEqual(
    views.map((v) => [v.kid, v.status, v.removableFrom]),
    [
      ['a', 'retired', T + 60_000 + KEY_RETIRE_GRACE_MS],
      ['b', 'signing', null],
      ['c', 'next', null],
    ],
  );
  assert.ok(KEY_RETIRE_GRACE_MS >= 60_000, 'at least an assertion lifetime');
});

test('a sealed private key opens only with its own secret and on its own row; the public half must match', () => {
  const sealer = new SigningKeySealer(SECRET);
  const { privateJwk } = generateSigningKey();
  const stored = sealer.seal({ kid: 'k1', createdAt: T, activeFrom: T, privateJwk });
  assert.ok(!stored.sealedPrivateJwk.includes(privateJwk.d as string), 'never in clear');
  assert.equal(stored.publicJwk.d, undefined);
  assert.deepEqual(sealer.open(stored).privateJwk, privateJwk);

  assert.throws(
    () => new SigningKeySealer(`${SECRET} but another`).open(stored),
    (e: unknown) =>
      e instanceof SigningKeySecretError &&
      /server\.secret must be the same on every instance/.test(e.message),
  );
  const other = sealer.seal({
    kid: 'k2',
    createdAt: T,
    activeFrom: T,
    privateJwk: generateSigningKey().privateJwk,
  });
  assert.throws(
    () => sealer.open({ ...other, sealedPrivateJwk: stored.sealedPrivateJwk }),
    SigningKeySecretError,
  );
  assert.throws(() => sealer.open({ ...stored, publicJwk: other.publicJwk }), /damaged/);
});
