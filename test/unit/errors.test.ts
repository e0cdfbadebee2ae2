import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS, problem } from '../../src/errors.ts';

test('every error code is documented in the README with its status', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const [code, e] of Object.entries(ERRORS)) {
    assert.match(
      readme,
      new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${e.status}\\s*\\|`),
      `${code} missing from README`,
    );
  }
});

test('problem bodies have the RFC 9457 members and extras after them', () => {
  const body = problem('auth_required', { login_url: '/auth/login' });
  assert.deepEqual(Object.keys(body), ['type', 'title', 'status', 'code', 'detail', 'login_url']);
  assert.equal(body.status, 401);
  assert.equal(body.type, 'urn:hero-gateway:problem:auth_required');
});

test('5xx public details are generic', () => {
  for (const e of Object.values(ERRORS)) {
    if (e.status >= 500) assert.doesNotMatch(e.detail, /sqlite|undici|stack|ECONN/i);
  }
});
