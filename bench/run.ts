// Throughput benchmark, side by side in one run, every proxy in its own process (bench/processes.ts): the
// direct upstream, a bare @fastify/http-proxy (no logging), nginx, and the gateway's none, bearer, local and
// oauth routes as `hero-gateway serve` with its DEFAULT config (log_level info, one access line per request,
// stdout into a file), plus the none route with log_level "warn" to show what the access log costs, Apache
// with mod_auth_openidc signed in through a local provider (bench/apache.ts), and the gateway with one and
// two workers (bench/workers.ts); then password sign-in latency and the local route's throughput while
// sign-ins run (bench/signin.ts). The Node processes (bare proxy and gateways) start afresh every round.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig, PASSWORD, seedAccount } from './account.ts';
import { APACHE_ROW, startApache } from './apache.ts';
import { cpuMicros } from './cpu.ts';
import { stopFineLoads } from './fine-load.ts';
import { fmt, log, median, medianRow, type Row, runLoad, sleep, stopLoads, toRow } from './load.ts';
import { startNginx } from './nginx.ts';
import { medianPairs, type PairResult, type PairTarget, pairWith } from './paired.ts';
import { startBareProxy, startServe, startUpstream } from './processes.ts';
import {
  BACKGROUND_SIGNINS,
  printSignIn,
  SIGNIN_CONNECTIONS,
  type SignInForm,
  type SignInRound,
  signIn,
  signInForm,
  signInRound,
  summarize,
} from './signin.ts';
import { startWorkerGateways, WORKER_ROWS } from './workers.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = 2;
const CONNECTIONS = 50;
/** The issue's targets against the bare proxy: req/s at least equal, p99 at most 10% higher. */
const TARGET_RATIO = 1.0;
const TARGET_P99 = 1.1;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Slices per round of the paired comparison (bench/paired.ts), each DURATION seconds. */
const PAIR_SLICES = 3;
const CONTROL = 'bare proxy, second process';
const asJson = process.argv.includes('--json');
interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The serving process, for its CPU time per request. */
  pid?: number | undefined;
}
const cleanups: Array<() => unknown> = [];

async function cleanup(): Promise<void> {
  stopLoads();
  stopFineLoads();
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      log(`cleanup failed: ${String(err)}`);
    }
  }
  cleanups.length = 0;
}

async function expectStatus(t: Target, status: number, headers = t.headers, what = ''): Promise<void> {
  const res = await fetch(t.url, { headers });
  await res.arrayBuffer();
  if (res.status !== status)
    throw new Error(
      `${t.name}${what ? ` (${what})` : ''}: GET ${t.url} answered ${res.status}, expected ${status}`,
    );
}

function named<T extends { name: string }>(list: T[], name: string): T {
  const found = list.find((t) => t.name === name);
  if (!found) throw new Error(`no bench target "${name}"`);
  return found;
}

/** Occurrences of `needle` in a file's bytes (three rounds of access lines outgrow any string). */
function countOf(bytes: Buffer, needle: string): number {
  let n = 0;
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) n++;
  return n;
}

const load = (t: Target, duration: number) =>
  runLoad({ url: t.url, headers: t.headers, connections: CONNECTIONS, duration });

const ACCESS_LOG = 'access.log';
/** The table's row order: references first, then the gateway's routes, then the peers and worker rows. */
const ROW_ORDER = [
  'direct upstream',
  'bare proxy',
  'nginx',
  'gateway none, log warn',
  'gateway none',
  'gateway bearer',
  'gateway local',
  'gateway oauth',
  APACHE_ROW,
  ...WORKER_ROWS,
];
const ORDER = (name: string) => ROW_ORDER.indexOf(name);

/** What stays up for the whole run: the upstream, the store's bench account, nginx and Apache. */
interface Fixed {
  dir: string;
  upstreamUrl: string;
  toml: string;
  username: string;
  token: string;
  ssoToken: string;
  targets: Target[];
  /** The local route's session cookie: made once through the real sign-in, valid in every later process. */
  session: string | null;
}

async function startFixed(dir: string): Promise<Fixed> {
  // The upstream runs in its own process, so its work is not counted inside either proxy's numbers.
  const upstream = await startUpstream();
  cleanups.push(upstream.stop);
  const upstreamUrl = upstream.url;

  const toml = benchConfig(dir, upstreamUrl);
  const { username, token, ssoToken, close } = await seedAccount(toml, join(dir, 'bench.toml'));
  cleanups.push(close);
  const targets: Target[] = [
    { name: 'direct upstream', url: `${upstreamUrl}/`, headers: {}, pid: upstream.pid },
  ];
  const nginx = await startNginx(upstreamUrl, dir);
  if (nginx) {
    cleanups.push(nginx.stop);
    targets.push({ name: 'nginx', url: nginx.url, headers: {}, pid: nginx.pid });
  }
  const apache = await startApache(upstreamUrl);
  if (apache) {
    cleanups.push(apache.stop);
    targets.push(apache);
  }
  return { dir, upstreamUrl, toml, username, token, ssoToken, targets, session: null };
}

/**
 * The Node processes under comparison, started afresh for each round: the same code and config has been seen
 * to run at quite different CPU cost per request from one start to the next on a small shared machine (the
 * bare proxy too), so one start per round makes each reported median a median over starts, not one draw.
 */
async function startRound(fixed: Fixed, round: number): Promise<Round> {
  const { dir, upstreamUrl, toml } = fixed;
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  try {
    const bare = await startBareProxy(upstreamUrl);
    stops.push(bare.stop);
    // The paired comparison's control: a second, identical bare proxy.
    const control = await startBareProxy(upstreamUrl);
    stops.push(control.stop);
    // The default config (log_level info: one access line per request) and the same with log_level "warn",
    // each as `hero-gateway serve`, their stdout (the log) into files.
    const start = async (name: string, text: string, log: string) => {
      writeFileSync(join(dir, name), text);
      const gw = await startServe(join(dir, name), join(dir, log));
      stops.push(gw.stop);
      return gw;
    };
    const gateway = await start('bench.toml', toml, ACCESS_LOG);
    const quiet = await start(
      'quiet.toml',
      toml.replace('[server]\n', '[server]\nlog_level = "warn"\n'),
      'quiet.log',
    );
    const workers = await startWorkerGateways(upstreamUrl, join(dir, `round-${round}`));
    stops.push(workers.stop);
    const form = await signInForm(gateway.url, fixed.username, PASSWORD);
    // The local route's session comes from the real sign-in flow, as a browser gets it.
    fixed.session ??= await signIn(form);
    const gw = gateway.url;
    const targets: Target[] = [
      { name: 'bare proxy', url: `${bare.url}/`, headers: {}, pid: bare.pid },
      { name: 'gateway none, log warn', url: `${quiet.url}/open`, headers: {}, pid: quiet.pid },
      { name: 'gateway none', url: `${gw}/open`, headers: {}, pid: gateway.pid },
      {
        name: 'gateway bearer',
        url: `${gw}/api`,
        headers: { authorization: `Bearer ${fixed.token}` },
        pid: gateway.pid,
      },
      { name: 'gateway local', url: `${gw}/app`, headers: { cookie: fixed.session }, pid: gateway.pid },
      {
        name: 'gateway oauth',
        url: `${gw}/sso`,
        headers: { cookie: `__Host-hero_session=${fixed.ssoToken}` },
        pid: gateway.pid,
      },
      ...workers.targets,
    ];
    const paired: PairTarget[] = [
      ...['none', 'bearer', 'local', 'oauth'].map((n) => named(targets, `gateway ${n}`)),
      { name: CONTROL, url: `${control.url}/`, headers: {}, pid: control.pid },
    ];
    for (const t of [...targets, ...paired]) await expectStatus(t, 200);
    // The bearer, local and oauth routes must really authenticate: without the credential it is a 401.
    const oauth = named(targets, 'gateway oauth');
    await expectStatus(named(targets, 'gateway bearer'), 401, {});
    await expectStatus(named(targets, 'gateway local'), 401, {});
    await expectStatus(oauth, 401, {});
    await expectStatus(oauth, 401, { cookie: fixed.session }, 'a password session on the oauth route');
    return { targets, paired, form, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Round {
  targets: Target[];
  /** What is loaded at the same moment as the bare proxy: the gateway's routes and the control. */
  paired: PairTarget[];
  form: SignInForm;
  stop: () => Promise<void>;
}

async function main(): Promise<number> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
    throw new Error(`BENCH_ROUNDS must be ≥ 1, got "${process.env.BENCH_ROUNDS}"`);
  if (!Number.isInteger(DURATION) || DURATION < 1)
    throw new Error(`BENCH_DURATION must be whole seconds ≥ 1, got "${process.env.BENCH_DURATION}"`);
  const dir = mkdtempSync(join(tmpdir(), 'hero-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const fixed = await startFixed(dir);
  for (const t of fixed.targets) await expectStatus(t, 200);

  // Rounds rotate the order of the targets, so drift on a shared machine does not favour one of them;
  // each reported number is the median over the rounds.
  const runs = new Map<string, Row[]>();
  let names: string[] = [];
  const signInRounds: SignInRound[] = [];
  const pairedRounds: PairResult[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const current = await startRound(fixed, round);
    cleanups.push(current.stop); // Ctrl-C mid-round stops this round's processes too (stop is idempotent)
    try {
      const targets = [...fixed.targets, ...current.targets].sort((a, b) => ORDER(a.name) - ORDER(b.name));
      names = targets.map((t) => t.name);
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(k + round) % targets.length]!;
        log(
          `round ${round + 1}/${ROUNDS} ${t.name}: warm-up ${WARMUP}s, then ${DURATION}s × ${CONNECTIONS} connections`,
        );
        await load(t, WARMUP);
        const before = cpuMicros(t.pid);
        const result = await load(t, DURATION);
        const after = cpuMicros(t.pid);
        const row = toRow(t.name, result, before === null || after === null ? null : after - before);
        runs.set(t.name, [...(runs.get(t.name) ?? []), row]);
      }
      const bare = named(targets, 'bare proxy');
      const pairTiming = {
        warmup: WARMUP,
        duration: DURATION,
        slices: PAIR_SLICES,
        connections: CONNECTIONS,
      };
      const pairs: PairResult[] = [];
      // Rotated like the targets above: no route is always the one loaded after the others.
      for (let k = 0; k < current.paired.length; k++) {
        const t = current.paired[(k + round) % current.paired.length]!;
        const what = `${t.name} and bare proxy loaded together`;
        pairs.push(
          await pairWith(bare, t, pairTiming, (i) =>
            log(`round ${round + 1}/${ROUNDS} ${what}: slice ${i + 1}/${PAIR_SLICES}, ${DURATION}s`),
          ),
        );
      }
      pairedRounds.push(pairs);
      const local = named(targets, 'gateway local');
      const proxied = { url: local.url, headers: local.headers, connections: CONNECTIONS };
      const timing = { warmup: WARMUP, duration: DURATION, round, rounds: ROUNDS };
      signInRounds.push(await signInRound(current.form, proxied, timing));
    } finally {
      await current.stop();
    }
  }
  const rows: Row[] = names.map((name) => medianRow(name, runs.get(name) ?? []));
  const signIns = summarize(signInRounds);

  // [numerator, denominator] by target name; a pair whose target is missing (no nginx, no Apache) is left out.
  const gated = ['none', 'bearer', 'local', 'oauth'].map((n) => `gateway ${n}`);
  const pairs: Array<[string, string]> = [
    ...gated.map((g): [string, string] => [g, 'bare proxy']),
    ['gateway none, log warn', 'bare proxy'],
    ['gateway none', 'gateway none, log warn'],
    ['nginx', 'bare proxy'],
    ['bare proxy', 'direct upstream'],
    ['gateway none', 'direct upstream'],
    [APACHE_ROW, 'gateway oauth'],
    ...WORKER_ROWS.map((w): [string, string] => [w, 'bare proxy']),
    [WORKER_ROWS[1], WORKER_ROWS[0]],
  ];
  // Ratios are taken within each round (targets measured minutes apart drift together), then the median.
  const ratioOf = (key: 'rps' | 'p99' | 'cpuUs', a: string, b: string) =>
    median(
      (runs.get(a) ?? []).map(
        (r, round) => (r[key] ?? Number.NaN) / (runs.get(b)?.[round]?.[key] ?? Number.NaN),
      ),
    );
  const ratios = pairs
    .filter(([a, b]) => runs.has(a) && runs.has(b))
    .map(([a, b]) => ({
      label: `${a} / ${b}`,
      rps: ratioOf('rps', a, b),
      p99: ratioOf('p99', a, b),
      cpu: ratioOf('cpuUs', a, b),
    }));
  // The targets are judged on the paired comparison: loaded at the same moment, both proxies see the same
  // machine, where the sequential ratios above also carry a minute of the machine's drift.
  const paired = medianPairs(pairedRounds);
  const verdicts = gated.map((g) => {
    const r = paired.find((x) => x.name === g) ?? { rps: Number.NaN, p99: Number.NaN };
    return { route: g, rps: r.rps, p99: r.p99, pass: r.rps >= TARGET_RATIO && r.p99 <= TARGET_P99 };
  });
  // The access lines the default-config gateway wrote: one per request it answered (a sanity check that the
  // log was really on). It writes them out within a second.
  await sleep(1500);
  const logged = countOf(readFileSync(join(dir, ACCESS_LOG)), '"msg":"request"');
  const failed = rows.some((r) => r.flagged) || paired.some((r) => r.flagged) || signIns.flagged;
  const env = { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '?' };
  const settings = {
    connections: CONNECTIONS,
    duration: DURATION,
    warmup: WARMUP,
    rounds: ROUNDS,
    pipelining: 1,
    signInConnections: SIGNIN_CONNECTIONS,
    backgroundSignInLoops: BACKGROUND_SIGNINS,
  };

  if (asJson) {
    const targetsMet = { rpsAtLeast: TARGET_RATIO, p99AtMost: TARGET_P99, routes: verdicts };
    const out = { ...env, settings, results: rows, ratios, paired, targets: targetsMet, accessLines: logged };
    const signInNumbers = { signIn: signIns.signIn, underSignIns: signIns.underSignIns };
    console.log(JSON.stringify({ ...out, ...signInNumbers, ok: !failed }, null, 2));
    return failed ? 1 : 0;
  }
  const head = ['target', 'req/s (mean)', 'p50 ms', 'p99 ms', 'CPU µs/req', 'non-2xx', 'errors', ''];
  const lines = rows.map((r) => {
    const errs = String(r.errors + r.timeouts);
    const cpu = r.cpuUs === null ? '-' : fmt(r.cpuUs);
    const flag = r.flagged ? 'FLAGGED' : '';
    return [r.target, fmt(r.rps), fmt(r.p50), fmt(r.p99), cpu, String(r.non2xx), errs, flag];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const row = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[0]!)));
  console.log(`\nNode ${env.node}, ${env.cpus} CPUs (${env.cpuModel})`);
  console.log(
    `${CONNECTIONS} connections, pipelining 1, ${DURATION}s per target after ${WARMUP}s warm-up, ` +
      `${ROUNDS} rounds in rotating order, Node proxies started afresh each round (medians)`,
  );
  console.log(
    '(latency has 1 ms resolution; load generator on a worker thread; upstream in its own process)\n',
  );
  for (const l of [head, ...lines]) console.log(row(l).join('  ').trimEnd());
  console.log(`\n${'ratio'.padEnd(42)}${'req/s'.padStart(8)}${'p99'.padStart(8)}${'CPU/req'.padStart(9)}`);
  for (const r of ratios) {
    const cells = [fmt(r.rps, 3).padStart(8), fmt(r.p99, 3).padStart(8), fmt(r.cpu, 3).padStart(9)];
    console.log(`${r.label.padEnd(42)}${cells.join('')}`);
  }
  console.log(
    `\npaired: loaded at the same moment as the bare proxy, ${CONNECTIONS} connections each, ` +
      `${PAIR_SLICES} × ${DURATION}s per round, p99 at 10 µs resolution (medians over rounds)`,
  );
  for (const r of paired) {
    const cells = [
      fmt(r.rps, 3).padStart(8),
      fmt(r.p99, 3).padStart(8),
      fmt(r.cpu ?? Number.NaN, 3).padStart(9),
    ];
    const label = `${r.name} / bare proxy${r.name === CONTROL ? ' (noise floor)' : ''}`;
    console.log(`${label.padEnd(42)}${cells.join('')}${r.flagged ? '  FLAGGED' : ''}`);
  }
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'BELOW');
  console.log(
    `\ntargets, paired (default logging vs bare proxy): req/s ≥ ${TARGET_RATIO}×, p99 ≤ ${TARGET_P99}× ` +
      `(the default-config gateway wrote ${logged} access lines)`,
  );
  for (const v of verdicts)
    console.log(`  ${v.route.padEnd(16)} req/s ${fmt(v.rps, 3)}  p99 ${fmt(v.p99, 3)}  ${verdict(v.pass)}`);
  printSignIn({ ...signIns, ...settings, cpus: env.cpus });
  if (failed)
    console.log(
      '\nFLAGGED runs had unexpected statuses (non-2xx, or non-303 for sign-ins), errors or timeouts: ' +
        'their numbers are not valid',
    );
  return failed ? 1 : 0;
}

process.once('SIGINT', () => {
  log('interrupted');
  void cleanup().then(() => process.exit(130));
});

let code = 1;
try {
  code = await main();
} catch (err) {
  log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await cleanup();
}
process.exit(code);
