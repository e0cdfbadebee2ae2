// Instructions per request, counted by valgrind's callgrind: the one measure of what a proxy does per request
// that scheduling, caches and the neighbours of a shared machine cannot move (the same binary, config and
// requests give the same count). Each proxy runs under callgrind; after a warm-up the counters are zeroed,
// REQUESTS requests go through it, and the count is dumped. Slow (valgrind runs Node ~50× slower): minutes.
// Usage: npm run bench:instructions [-- REQUESTS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig, PASSWORD, seedAccount } from './account.ts';
import { log, runLoad } from './load.ts';
import { type Running, startBareProxy, startServe, startUpstream } from './processes.ts';
import { signIn, signInForm } from './signin.ts';

const REQUESTS = Number(process.argv[2] ?? 2000);
const WARMUP = 3000;

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Instructions callgrind counted in its last dump for `pid` (all threads together). */
function lastDump(dir: string, pid: number): number {
  const dumps = readdirSync(dir).filter((f) => f.startsWith(`cg.${pid}.`));
  const last = dumps.sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1))).at(-1);
  const summary = last && /^summary: (\d+)$/m.exec(readFileSync(join(dir, last), 'utf8'));
  if (!summary) throw new Error(`no callgrind dump for process ${pid}`);
  return Number(summary[1]);
}

async function count(
  dir: string,
  server: Running,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  const url = `${server.url}${path}`;
  const warm = await runLoad({ url, headers, connections: 10, amount: WARMUP, timeout: 60 });
  if (warm.non2xx > 0) throw new Error(`${url} answered ${warm.non2xx} non-2xx during the warm-up`);
  execFileSync('callgrind_control', ['-z', String(server.pid)], { stdio: 'ignore' });
  const r = await runLoad({ url, headers, connections: 10, amount: REQUESTS, timeout: 60 });
  execFileSync('callgrind_control', ['-d', String(server.pid)], { stdio: 'ignore' });
  if (r.non2xx + r.errors + r.timeouts > 0)
    throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return lastDump(dir, server.pid as number) / r.requests.total;
}

async function main(): Promise<void> {
  if (!hasValgrind()) {
    console.log('valgrind is not installed: apt-get install valgrind, then run this again');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hero-instructions-'));
  const upstream = await startUpstream();
  const running: Running[] = [upstream];
  try {
    const wrap = ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'cg.%p')}`];
    const toml = benchConfig(dir, upstream.url);
    writeFileSync(join(dir, 'bench.toml'), toml);
    const account = await seedAccount(toml, join(dir, 'bench.toml'));
    account.close();
    log('starting the bare proxy under callgrind (about half a minute)');
    const bare = await startBareProxy(upstream.url, wrap);
    running.push(bare);
    const rows: Array<[string, number]> = [['bare proxy', await count(dir, bare, '/', {})]];
    await bare.stop();
    log('starting the gateway under callgrind (about a minute)');
    const gw = await startServe(join(dir, 'bench.toml'), join(dir, 'access.log'), wrap);
    running.push(gw);
    const session = await signIn(await signInForm(gw.url, account.username, PASSWORD));
    const routes: Array<[string, string, Record<string, string>]> = [
      ['gateway none', '/open', {}],
      ['gateway bearer', '/api', { authorization: `Bearer ${account.token}` }],
      ['gateway local', '/app', { cookie: session }],
      ['gateway oauth', '/sso', { cookie: `__Host-hero_session=${account.ssoToken}` }],
    ];
    for (const [name, path, headers] of routes) {
      log(`${name}: ${WARMUP} requests to warm up, then ${REQUESTS} counted`);
      rows.push([name, await count(dir, gw, path, headers)]);
    }
    await gw.stop();
    // The same none route with log_level "warn": what the access line costs in instructions.
    log('starting the gateway with log_level "warn" under callgrind');
    writeFileSync(join(dir, 'quiet.toml'), toml.replace('[server]\n', '[server]\nlog_level = "warn"\n'));
    const quiet = await startServe(join(dir, 'quiet.toml'), join(dir, 'quiet.log'), wrap);
    running.push(quiet);
    rows.push(['gateway none, log warn', await count(dir, quiet, '/open', {})]);
    const base = rows[0]?.[1] ?? Number.NaN;
    console.log(`\ninstructions per request (callgrind, all threads; ${REQUESTS} requests, 10 connections)`);
    for (const [name, n] of rows)
      console.log(
        `${name.padEnd(24)}${Math.round(n).toLocaleString('en').padStart(10)}  ${(n / base).toFixed(3)}×`,
      );
  } finally {
    for (const r of running.reverse()) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
