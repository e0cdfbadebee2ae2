// Another process holding the SQLite write lock (the CLI, a backup tool, an operator's sqlite3 shell in
// BEGIN EXCLUSIVE) never stalls the gateway: what needs no write keeps answering at once, what needs one waits
// on timers and answers 503 or succeeds, /readyz says the store is locked, and all is well again by itself.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/adapters/open-store.ts';
import { hashPassword } from '../../src/crypto/password.ts';
import { ApiTokenService } from '../../src/services/api-tokens.ts';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { tempDir } from '../helpers/gateway.ts';
import { type Served, startServe } from '../helpers/serve.ts';
import { until } from '../helpers/until.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const PASSWORD = 'correct horse battery staple';
const LOCK_MS = 10_000;
const POLL_MS = 100;
const P99_WITHIN_MS = 50;
/** A call that needs a write waits for the lock at most 5 s (lock-wait.ts), then 503: never longer than this. */
const WRITE_ANSWER_WITHIN_MS = 7000;

/** Another process that takes the write lock on `path` and holds it for `ms`; resolves once it holds it. */
async function holdLock(path: string, ms: number): Promise<{ child: ChildProcess; released: Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ['-e', script, path, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const released = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`locker exited ${code}`))));
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += String(d);
      if (out.includes('locked')) resolve();
    });
    child.on('error', reject);
  });
  return { child, released };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe('a SQLite write lock held by another process', () => {
  let up: Upstream;
  let served: Served;
  let dir: string;
  let path: string;
  let token: string;
  let adminToken: string;

  before(async () => {
    up = await startUpstream();
    dir = tempDir();
    path = join(dir, 'gateway.db');
    // The gateway in its own process, as deployed: what this process measures is its answers, not the client's
    // own work sharing an event loop with it.
    const file = join(dir, 'hero-gateway.toml');
    writeFileSync(
      file,
      `[server]\nlisten = "127.0.0.1:0"\ndata_dir = "${dir}"\nlog_level = "warn"\nsecret = "${'s'.repeat(48)}"\n` +
        `[admin]\nlisten = "127.0.0.1:0"\n[store]\nurl = "sqlite:${path}"\n\n` +
        `[[route]]\nname = "open"\npath = "/open"\nupstream = "${up.url}"\nauth = "none"\n\n` +
        `[[route]]\nname = "api"\npath = "/api"\nupstream = "${up.url}"\nauth = "bearer"\n\n` +
        `[[route]]\nname = "app"\npath = "/"\nupstream = "${up.url}"\nauth = "local"\n`,
    );
    const clock = { now: () => Date.now() };
    const store = await openStore(`sqlite:${path}`, clock);
    const alice = await createUser(store, {
      username: 'alice',
      email: 'alice@example.com',
      emailVerified: true,
      passwordHash: await hashPassword(PASSWORD),
    });
    const tokens = new ApiTokenService(store, clock);
    token = (await tokens.issue({ userId: alice.id, name: 'lock', claims: null, expiresAt: null })).token;
    const root = await createUser(store, {
      username: 'root',
      email: 'root@example.com',
      emailVerified: true,
      admin: true,
    });
    adminToken = (await tokens.issue({ userId: root.id, name: 'admin', claims: null, expiresAt: null }))
      .token;
    await store.close();
    served = await startServe(file);
  });
  after(async () => {
    await served?.stop();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`held ${LOCK_MS / 1000} s: reads answer at once, writes 503 or succeed, /readyz 503 then 200`, async (t) => {
    const gw = { url: served.url };
    const admin = served.adminUrl ?? '';
    const bearer = { authorization: `Bearer ${token}` };
    // Warm: the token is cached, a connection to each listener is open, every path has run once.
    for (const [url, headers] of [
      [`${gw.url}/api/x`, bearer],
      [`${gw.url}/open/x`, {}],
      [`${admin}/healthz`, {}],
      [`${admin}/readyz`, {}],
    ] as const) {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      assert.equal(res.status, 200);
    }

    const lock = await holdLock(path, LOCK_MS);
    const lockedAt = performance.now();

    let holding = true;
    void lock.released.then(() => {
      holding = false;
    });

    const timings: number[] = [];
    const poll = async (url: string, headers: Record<string, string> = {}) => {
      while (holding) {
        const t0 = performance.now();
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
        const ms = performance.now() - t0;
        assert.equal(res.status, 200, `${url} answered ${res.status} during the lock`);
        if (holding) timings.push(ms);
        await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - ms)));
      }
    };
    const readiness: number[] = [];
    const watchReady = async () => {
      await new Promise((r) => setTimeout(r, 500));
      while (holding) {
        const t0 = performance.now();
        const res = await fetch(`${admin}/readyz`);
        const body = (await res.json()) as { code?: string };
        // Well inside the lock: its release reaches this process a moment after the store sees it.
        if (performance.now() - lockedAt < LOCK_MS - 500) {
          readiness.push(res.status);
          assert.equal(
            res.status,
            503,
            `readyz ${JSON.stringify(body)} at ${Math.round(performance.now() - lockedAt)} ms`,
          );
          assert.equal(body.code, 'store_locked');
          assert.ok(performance.now() - t0 < 2500, '/readyz answers within its deadline');
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // Calls that must write: a sign-in (a session, a throttle counter) and an admin API call.
    const timed = async (what: string, call: () => Promise<{ status: number }>) => {
      const t0 = performance.now();
      const res = await call();
      if (res instanceof Response) await res.arrayBuffer();
      return { what, status: res.status, ms: performance.now() - t0 };
    };
    const writes = () =>
      Promise.all([
        timed('sign-in', () => new BrowserClient(gw.url).signIn('alice', PASSWORD, '/')),
        timed('POST /api/v1/users', () =>
          fetch(`${admin}/api/v1/users`, {
            method: 'POST',
            headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'bob', email: 'bob@example.com' }),
          }),
        ),
      ]);

    const [, , , , written] = await Promise.all([
      poll(`${admin}/healthz`),
      poll(`${gw.url}/open/x`),
      poll(`${gw.url}/api/x`, bearer),
      watchReady(),
      writes(),
    ]);
    const heldMs = performance.now() - lockedAt;

    const p50 = percentile(timings, 50);
    const p99 = percentile(timings, 99);
    t.diagnostic(
      `lock held ${Math.round(heldMs)} ms: ${timings.length} answers, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...timings).toFixed(1)} ms; /readyz ${readiness.length}× 503`,
    );
    for (const w of written) t.diagnostic(`${w.what} during the lock: ${w.status} in ${Math.round(w.ms)} ms`);
    assert.ok(timings.length >= 150, `only ${timings.length} answers in ${heldMs} ms`);
    assert.ok(p99 < P99_WITHIN_MS, `p99 ${p99.toFixed(1)} ms during the lock`);
    assert.ok(readiness.length >= 5, 'readiness was asked during the lock');
    for (const w of written) {
      assert.ok([303, 503].includes(w.status) || w.status === 201, `${w.what}: ${w.status}`);
      assert.ok(w.ms < WRITE_ANSWER_WITHIN_MS, `${w.what} took ${Math.round(w.ms)} ms`);
    }
    assert.ok(
      written.every((w) => w.status === 503),
      'writes met the lock for their whole wait and answered 503',
    );

    // Released: ready again by itself, and writes work.
    await until(async () => (await fetch(`${admin}/readyz`)).status === 200, {
      what: '/readyz 200 after the lock',
      timeoutMs: 3000,
    });
    const browser = new BrowserClient(gw.url);
    assert.equal((await browser.signIn('alice', PASSWORD, '/')).status, 303);
    assert.equal((await browser.get('/app')).status, 200);
  });
});
