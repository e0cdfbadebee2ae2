import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { passwordProblem } from '../../src/services/password-policy.ts';

const ctx = { minLength: 12, username: 'alice', email: 'alice.smith@example.com' };

describe('password policy', () => {
  const accepted = [
    'correct horse battery staple',
    'ǅungla-Ⅻ-tiger-moon',
    'x'.repeat(1024),
    'zqmvpwlrtkcb', // exactly the minimum, no composition rules
  ];
  for (const pw of accepted)
    test(`accepts ${JSON.stringify(pw.slice(0, 30))}`, () => assert.equal(passwordProblem(pw, ctx), null));

  const refused: [string, RegExp][] = [
    ['short', /at least 12/],
    ['elevenchars', /at least 12/],
    ['x'.repeat(1025), /at most 1024/],
    ['1qaz2wsx3edc', /most commonly used/],
    ['123QWEasdZXC', /most commonly used/],
    ['Qwerty123456', /most commonly used/],
    ['my-alice-password-2026', /username or email/],
    ['ALICE.SMITH forever', /username or email/],
  ];
  for (const [pw, why] of refused)
    test(`refuses ${JSON.stringify(pw.slice(0, 30))}`, () =>
      assert.match(passwordProblem(pw, ctx) ?? '', why));

  test('length counts characters after NFKC, not bytes or UTF-16 units', () => {
    assert.equal(passwordProblem('😀'.repeat(12), ctx), null);
    assert.match(passwordProblem('😀'.repeat(11), ctx) ?? '', /at least 12/);
    // U+FB03 "ﬃ" is three characters after NFKC
    assert.equal(passwordProblem('ﬃ'.repeat(4), ctx), null);
  });
});
