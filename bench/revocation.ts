// Revocation across instances (`npm run bench -- --only revocation`; also a stage of a whole `npm run bench`): two
// `hero-gateway serve` processes on one PostgreSQL database. Each round signs in through A, has B admit the
// session (so B holds it in its identity cache), signs out through A, and then asks B again and again until B
// refuses: the time from A's answer to B's first refusal is how long a revoked session outlives its sign-out
// anywhere. Target: p99 under 1 s.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomSecret } from '../src/crypto/tokens.ts';
import { benchConfig, PASSWORD, seedAccount } from './account.ts';
import { log } from './load.ts';
import { createBenchDatabase } from './pg-database.ts';
import { type Running, startServe, startUpstream } from './processes.ts';
import { SESSION_COOKIE, signIn, signInForm } from './signin.ts';

const ROUNDS = Number(process.env.BENCH_REVOCATIONS ?? 50);
const TARGET_MS = 1000;
const CSRF_COOKIE = '__Host-hero_csrf';

export interface RevocationResult {
  rounds: number;
  /** Milliseconds from A's sign-out answer to B's first refusal, sorted. */
  delaysMs: number[];
  p50: number;
  p99: number;
  max: number;
  /** Rounds in which B's very first request after the sign-out was already refused. */
  refusedAtOnce: number;
  ok: boolean;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;

/** Whether B admits the session (200) or refuses it (401: a script's request, no Accept: text/html). */
async function admitted(base: string, cookie: string): Promise<boolean> {
  const res = await fetch(`${base}/app`, { headers: { cookie } });
  await res.arrayBuffer();
  if (res.status !== 200 && res.status !== 401) throw new Error(`${base}/app answered ${res.status}`);
  return res.status === 200;
}

/** The sign-out a browser makes on A: the confirmation page's form, with its CSRF cookie and field. */
async function signOut(base: string, session: string): Promise<void> {
  const page = await fetch(`${base}/auth/logout`, { headers: { cookie: session, accept: 'text/html' } });
  const body = await page.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
  const csrfCookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] as string)
    .find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  if (!csrf || !csrfCookie) throw new Error(`GET /auth/logout answered ${page.status} without a form`);
  const res = await fetch(`${base}/auth/logout`, {
    method: 'POST',
    headers: {
      cookie: `${session}; ${csrfCookie}`,
      origin: new URL(base).origin,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'text/html',
    },
    body: new URLSearchParams({ csrf }).toString(),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`POST /auth/logout answered ${res.status}`);
}

export async function runRevocation(cleanups: Array<() => unknown>): Promise<RevocationResult | null> {
  const db = await createBenchDatabase();
  if (!db) return null;
  cleanups.push(() => db.drop());
  const upstream = await startUpstream();
  cleanups.push(() => upstream.stop());
  const secret = randomSecret(48);
  const gateways: Running[] = [];
  let account: Awaited<ReturnType<typeof seedAccount>> | null = null;
  const root = mkdtempSync(join(tmpdir(), 'hero-bench-revocation-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  for (const name of ['a', 'b']) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const toml = benchConfig(dir, upstream.url, { url: db.url, secret });
    const file = join(dir, 'gateway.toml');
    writeFileSync(file, toml);
    // The account once, before either instance serves (both read it from the shared database).
    if (!account) account = await seedAccount(toml, file);
    const gw = await startServe(file, join(dir, 'access.log'));
    cleanups.push(() => gw.stop());
    gateways.push(gw);
  }
  await account?.close();
  const [a, b] = gateways.map((g) => g.url) as [string, string];
  log(`revocation: ${ROUNDS} sign-outs through A, each awaited on B`);
  const form = await signInForm(a, 'bench', PASSWORD);
  const delays: number[] = [];
  let refusedAtOnce = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const cookie = await signIn(form);
    if (!cookie.startsWith(`${SESSION_COOKIE}=`)) throw new Error('no session cookie');
    // B admits it twice: the second answer comes from B's identity cache.
    if (!(await admitted(b, cookie)) || !(await admitted(b, cookie)))
      throw new Error('B did not admit the session');
    await signOut(a, cookie);
    const t0 = performance.now();
    let first = true;
    while (await admitted(b, cookie)) {
      first = false;
      if (performance.now() - t0 > 10 * TARGET_MS) throw new Error('B still admits the session after 10 s');
    }
    delays.push(performance.now() - t0);
    if (first) refusedAtOnce++;
  }
  delays.sort((x, y) => x - y);
  const p99 = quantile(delays, 0.99);
  return {
    rounds: ROUNDS,
    delaysMs: delays,
    p50: quantile(delays, 0.5),
    p99,
    max: delays[delays.length - 1] as number,
    refusedAtOnce,
    ok: p99 < TARGET_MS,
  };
}

export function printRevocation(r: RevocationResult): void {
  console.log(
    `\nRevocation across instances (two serve processes on one PostgreSQL database; sign-out through A, then B ` +
      `asked until it refuses, ${r.rounds} rounds):\n` +
      `  time to refusal on B: p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms ` +
      `(target p99 < ${TARGET_MS} ms: ${r.ok ? 'PASS' : 'BELOW'}); refused on B's very first request after the ` +
      `sign-out in ${r.refusedAtOnce} of ${r.rounds}`,
  );
}
