// Throughput benchmark, side by side in one run, every proxy in its own process (bench/processes.ts): the
// direct upstream, a bare @fastify/http-proxy (no logging), nginx, and the gateway's none, bearer, local and
// oauth routes as `hero-gateway serve` with its DEFAULT config (log_level info, one access line per request,
// stdout into a file), plus the none route with log_level "warn" to show what the access log costs, Apache
// with mod_auth_openidc signed in through a local provider (bench/apache.ts), and the gateway with one and
// two workers (bench/workers.ts); then password sign-in latency and the local route's throughput while
// sign-ins run (bench/signin.ts); the bearer and local routes also with a PostgreSQL store, paired against the
// same routes on SQLite (bench/postgres-rows.ts). The Node processes (bare proxy and gateways) start afresh
// every round. Then revocation across two instances (bench/revocation.ts) and the scale run (bench/scale.ts).
// Stages: `--only throughput`, `--only revocation` or `--only scale`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { APACHE_ROW } from './apache.ts';
import { cpuMicros } from './cpu.ts';
import { stopFineLoads } from './fine-load.ts';
import { log, median, medianRow, type Row, runLoad, sleep, stopLoads, toRow } from './load.ts';
import { medianPairs, type PairResult, pairWith } from './paired.ts';
import { PG_TWINS, pairTwins, postgresTargets, postgresVerdicts, printPostgres } from './postgres-rows.ts';
import { printThroughput } from './print-throughput.ts';
import { printRevocation, runRevocation } from './revocation.ts';
import { runScale } from './scale.ts';
import { printScale } from './scale-report.ts';
import {
  BACKGROUND_SIGNINS,
  printSignIn,
  SIGNIN_CONNECTIONS,
  type SignInRound,
  signInRound,
  summarize,
} from './signin.ts';
import {
  ACCESS_LOG,
  CONTROL,
  expectStatus,
  named,
  startFixed,
  startRound,
  type Target,
} from './throughput-targets.ts';
import { WORKER_ROWS } from './workers.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = 2;
const CONNECTIONS = 50;
/** The targets against the bare proxy: req/s at least equal, p99 at most 10% higher. */
const TARGET_RATIO = 1.0;
const TARGET_P99 = 1.1;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Slices per round of the paired comparison (bench/paired.ts), each DURATION seconds. */
const PAIR_SLICES = 3;
const asJson = process.argv.includes('--json');
const STAGES = ['throughput', 'revocation', 'scale'];
/** `--only STAGE`: that stage alone; all of them by default. */
const only = process.argv.includes('--only')
  ? (process.argv[process.argv.indexOf('--only') + 1] ?? '')
  : undefined;
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

/** Occurrences of `needle` in a file's bytes (three rounds of access lines outgrow any string). */
function countOf(bytes: Buffer, needle: string): number {
  let n = 0;
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + needle.length)) n++;
  return n;
}

const load = (t: Target, duration: number) =>
  runLoad({ url: t.url, headers: t.headers, connections: CONNECTIONS, duration });

/** The table's row order: references first, then the gateway's routes, then the peers and worker rows. */
const ROW_ORDER = [
  'direct upstream',
  'bare proxy',
  'nginx',
  'gateway none, log warn',
  'gateway none',
  'gateway bearer',
  'gateway bearer, postgres',
  'gateway local',
  'gateway local, postgres',
  'gateway oauth',
  APACHE_ROW,
  ...WORKER_ROWS,
];
const ORDER = (name: string) => ROW_ORDER.indexOf(name);

/** The throughput stage: the rounds, the paired comparisons, the sign-in measurements; its report. */
async function throughput(): Promise<{ failed: boolean; json: Record<string, unknown> }> {
  if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
    throw new Error(`BENCH_ROUNDS must be ≥ 1, got "${process.env.BENCH_ROUNDS}"`);
  if (!Number.isInteger(DURATION) || DURATION < 1)
    throw new Error(`BENCH_DURATION must be whole seconds ≥ 1, got "${process.env.BENCH_DURATION}"`);
  const dir = mkdtempSync(join(tmpdir(), 'hero-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const fixed = await startFixed(dir, cleanups);
  for (const t of fixed.targets) await expectStatus(t, 200);

  // Rounds rotate the order of the targets, so drift on a shared machine does not favour one of them;
  // each reported number is the median over the rounds.
  const runs = new Map<string, Row[]>();
  let names: string[] = [];
  const signInRounds: SignInRound[] = [];
  const pairedRounds: PairResult[][] = [];
  const pgRounds: PairResult[][] = [];
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
      if (fixed.pg) {
        const onSlice = (what: string, i: number) =>
          log(`round ${round + 1}/${ROUNDS} ${what}: slice ${i + 1}/${PAIR_SLICES}, ${DURATION}s`);
        pgRounds.push(await pairTwins((n) => named(targets, n), pairTiming, round, onSlice));
      }
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
    ...PG_TWINS.map(([a, b]): [string, string] => [a, b]),
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

  const pgPaired = medianPairs(pgRounds);
  const failed =
    rows.some((r) => r.flagged) || [...paired, ...pgPaired].some((r) => r.flagged) || signIns.flagged;
  if (asJson) {
    const targetsMet = { rpsAtLeast: TARGET_RATIO, p99AtMost: TARGET_P99, routes: verdicts };
    const out = { ...env, settings, results: rows, ratios, paired, targets: targetsMet, accessLines: logged };
    const signInNumbers = { signIn: signIns.signIn, underSignIns: signIns.underSignIns };
    const postgres = fixed.pg && {
      paired: pgPaired,
      targets: { ...postgresTargets, routes: postgresVerdicts(pgPaired) },
    };
    return { failed, json: { ...out, ...signInNumbers, postgres } };
  }
  const { connections, duration, warmup, rounds } = settings;
  printThroughput({
    env,
    settings: { connections, duration, warmup, rounds, slices: PAIR_SLICES },
    rows,
    ratios,
    paired,
    control: CONTROL,
    targets: { rps: TARGET_RATIO, p99: TARGET_P99 },
    verdicts,
    logged,
  });
  if (fixed.pg) printPostgres(pgPaired, { connections, slices: PAIR_SLICES, duration, warmup });
  printSignIn({ ...signIns, ...settings, cpus: env.cpus });
  if (failed)
    console.log(
      '\nFLAGGED runs had unexpected statuses (non-2xx, or non-303 for sign-ins), errors or timeouts: ' +
        'their numbers are not valid',
    );
  return { failed, json: {} };
}

/** The stages `--only` selects (all by default), one after the other; JSON output gathers them in one object. */
async function main(): Promise<number> {
  if (only !== undefined && !STAGES.includes(only))
    throw new Error(`--only takes one of ${STAGES.join(', ')}, got "${only}"`);
  let failed = false;
  const json: Record<string, unknown> = {};
  if (only === undefined || only === 'throughput') {
    const t = await throughput();
    failed ||= t.failed;
    Object.assign(json, t.json);
    await cleanup(); // the throughput stage's processes and database are gone before the next stage starts
  }
  if (only === undefined || only === 'revocation') {
    const revocation = await runRevocation(cleanups);
    if (revocation) {
      failed ||= !revocation.ok;
      json.revocation = revocation;
      if (!asJson) printRevocation(revocation);
    }
    await cleanup();
  }
  if (only === undefined || only === 'scale') {
    const scale = await runScale(cleanups);
    if (scale) {
      failed ||= scale.flagged;
      json.scale = scale;
      if (!asJson) printScale(scale);
    }
  }
  if (asJson) console.log(JSON.stringify({ ...json, ok: !failed }, null, 2));
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
