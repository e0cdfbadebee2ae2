// The tunnel watch on its own, with a hand-driven timer: which tunnels a round of checks ends, and that the
// timer runs only while there are tunnels, never keeps the process alive, and survives a failing store.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Tunnel, type TunnelEnd, TunnelWatch } from '../../src/http/tunnels.ts';

class ManualTimers {
  running: { fn: () => void; ms: number; unrefed: boolean } | null = null;
  setInterval(fn: () => void, ms: number) {
    this.running = { fn, ms, unrefed: false };
    const handle = this.running;
    return {
      unref() {
        handle.unrefed = true;
      },
    };
  }
  clearInterval() {
    this.running = null;
  }
}

function fakeTunnel(stillAdmitted: Tunnel['stillAdmitted']) {
  const t = {
    closed: 0,
    stillAdmitted,
    close() {
      t.closed++;
    },
  };
  return t;
}

function setup() {
  const timers = new ManualTimers();
  const ends: TunnelEnd[] = [];
  const watch = new TunnelWatch({ intervalMs: 50, timers, onEnd: (why) => ends.push(why) });
  return { timers, ends, watch };
}

describe('tunnel watch', () => {
  test('the timer runs only while tunnels are open, unref-ed, and stops with the last one', () => {
    const { timers, watch } = setup();
    assert.equal(timers.running, null);
    const forget = watch.add(fakeTunnel(null));
    const running = timers.running as ManualTimers['running'];
    assert.equal(running?.ms, 50);
    assert.equal(running?.unrefed, true);
    forget();
    assert.equal(timers.running, null);
    assert.equal(watch.size, 0);
  });

  test('a round ends the tunnels no longer admitted, and only those', async () => {
    const { ends, watch } = setup();
    const kept = fakeTunnel(() => true);
    const later = fakeTunnel(() => Promise.resolve(true));
    const open = fakeTunnel(null);
    const revoked = fakeTunnel(() => false);
    const revokedLater = fakeTunnel(() => Promise.resolve(false));
    for (const t of [kept, later, open, revoked, revokedLater]) watch.add(t);
    await watch.check();
    assert.deepEqual(
      [kept, later, open, revoked, revokedLater].map((t) => t.closed),
      [0, 0, 0, 1, 1],
    );
    assert.deepEqual(ends, ['revoked', 'revoked']);
    assert.equal(watch.size, 3);
  });

  test('a store failure ends the tunnels it could not confirm (fail closed), not the watch', async () => {
    const { timers, ends, watch } = setup();
    let storeUp = false;
    const check = () => {
      if (!storeUp) throw new Error('database is locked');
      return true;
    };
    const sync = fakeTunnel(check);
    const async = fakeTunnel(() => (storeUp ? Promise.resolve(true) : Promise.reject(new Error('down'))));
    watch.add(sync);
    watch.add(async);
    await watch.check();
    assert.deepEqual([sync.closed, async.closed], [1, 1]);
    assert.deepEqual(ends, ['check_failed', 'check_failed']);
    // The store is back: tunnels opened now are watched as before.
    storeUp = true;
    const next = fakeTunnel(check);
    watch.add(next);
    assert.ok(timers.running, 'the watch runs again');
    await watch.check();
    assert.equal(next.closed, 0);
    assert.equal(watch.size, 1);
  });

  test('a slow round is not stacked upon: the next tick skips while it runs', async () => {
    const { watch } = setup();
    let calls = 0;
    let release: (ok: boolean) => void = () => {};
    watch.add(
      fakeTunnel(() => {
        calls++;
        return new Promise<boolean>((r) => {
          release = r;
        });
      }),
    );
    const first = watch.check();
    await watch.check();
    assert.equal(calls, 1);
    release(true);
    await first;
  });

  test('shutdown closes every tunnel and refuses new ones', () => {
    const { timers, ends, watch } = setup();
    const a = fakeTunnel(() => true);
    const b = fakeTunnel(null);
    watch.add(a);
    watch.add(b);
    watch.closeAll();
    assert.deepEqual([a.closed, b.closed], [1, 1]);
    assert.deepEqual(ends, [], 'shutdown is not news');
    assert.equal(timers.running, null);
    const late = fakeTunnel(null);
    watch.add(late);
    assert.equal(late.closed, 1);
    assert.equal(watch.size, 0);
  });
});
