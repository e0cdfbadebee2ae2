import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constantTimeEqual } from '../../src/crypto/constant-time.ts';
import { hashPassword, verifyPassword } from '../../src/crypto/password.ts';
import { hashToken, looksLikeApiToken, newApiToken } from '../../src/crypto/tokens.ts';

test('API tokens: hgw_ + 43 url-safe characters, unique, stored as SHA-256 hex', () => {
  const a = newApiToken();
  const b = newApiToken();
  assert.match(a, /^hgw_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.ok(looksLikeApiToken(a));
  assert.equal(looksLikeApiToken(`${a}x`), false);
  assert.equal(looksLikeApiToken(a.replace('hgw_', 'hgx_')), false);
  assert.match(hashToken(a), /^[0-9a-f]{64}$/);
  assert.notEqual(hashToken(a), hashToken(b));
});

test('constantTimeEqual: equal, different, different lengths, and non-strings never throw', () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
  assert.equal(constantTimeEqual('', ''), true);
  assert.equal(constantTimeEqual(undefined as unknown as string, 'x'), false);
});

test('argon2id: parameters in the hash, NFKC at set and verify, malformed hashes are just false', async () => {
  const h = await hashPassword('ﬁne passphrase'); // U+FB01 ligature
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword(h, 'fine passphrase'), true);
  assert.equal(await verifyPassword(h, 'fine passphrase!'), false);
  assert.equal(await verifyPassword('not-a-hash', 'x'), false);
});

test('hashToken is SHA-256 of the UTF-8 text, hex (stored hashes from any version must still match)', () => {
  assert.equal(hashToken('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(hashToken('é'), '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
});
