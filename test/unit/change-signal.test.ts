// When the SQLite adapter reads the authz version again (adapters/sqlite/change-signal.ts), with a clock the
// test moves: never per request while nothing changed, always after a write, for a while after another
// process's write, and on every request where no watch works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeSignal, MAX_AGE_MS, SETTLE_MS } from '../../src/adapters/sqlite/change-signal.ts';

function signal() {
  let now = 1_000_000;
  const s = new ChangeSignal(() => now);
  const advance = (ms: number) => {
    now += ms;
  };
  return { s, advance };
}

test('an own write makes the next ask read, once', () => {
  const { s, advance } = signal();
  s.watch(':memory:');
  assert.equal(s.mustRead(), true, 'nothing read yet');
  assert.equal(s.mustRead(), false);
  advance(10);
  assert.equal(s.mustRead(), false, 'nothing changed: no read');
  s.wrote();
  assert.equal(s.mustRead(), true);
  assert.equal(s.mustRead(), false);
});

test('the version is never trusted longer than MAX_AGE_MS', () => {
  const { s, advance } = signal();
  s.watch(':memory:');
  s.mustRead();
  advance(MAX_AGE_MS - 1);
  assert.equal(s.mustRead(), false);
  advance(1);
  assert.equal(s.mustRead(), true);
});

test('without a working watch every ask reads', () => {
  const { s } = signal();
  s.watch('/nonexistent-dir-for-a-watch/gateway.db');
  for (let i = 0; i < 3; i++) assert.equal(s.mustRead(), true);
  s.close();
});

test('SETTLE_MS is short and within MAX_AGE_MS', () => {
  assert.ok(SETTLE_MS > 0 && SETTLE_MS < MAX_AGE_MS);
});
