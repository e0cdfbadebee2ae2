// Throughput benchmark: direct upstream vs bare @fastify/http-proxy vs the gateway's none and bearer routes.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import httpProxy from '@fastify/http-proxy';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { openStore } from '../src/adapters/open-store.ts';
import { buildGateway } from '../src/app.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createLogger } from '../src/logger.ts';
import { systemClock } from '../src/ports/clock.ts';
import { ApiTokenService } from '../src/services/api-tokens.ts';
import { createUser } from '../src/services/users.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = 2;
const CONNECTIONS = 50;
const TARGET_RATIO = 0.9;
const asJson = process.argv.includes('--json');
const log = (msg: string) => process.stderr.write(`${msg}\n`);

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
}
interface Row {
  target: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  flagged: boolean;
}

let current: ReturnType<typeof autocannon> | null = null;
const cleanups: Array<() => unknown> = [];

async function cleanup(): Promise<void> {
  current?.stop();
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      log(`cleanup failed: ${String(err)}`);
    }
  }
  cleanups.length = 0;
}

async function expectStatus(t: Target, status: number, headers = t.headers): Promise<void> {
  const res = await fetch(t.url, { headers });
  await res.arrayBuffer();
  if (res.status !== status)
    throw new Error(`${t.name}: GET ${t.url} answered ${res.status}, expected ${status}`);
}

async function load(t: Target, duration: number) {
  // workers: 1 puts the load generator on its own thread, so it does not share the servers' event loop.
  const { url, headers } = t;
  current = autocannon({ url, headers, connections: CONNECTIONS, pipelining: 1, duration, workers: 1 });
  try {
    return await current;
  } finally {
    current = null;
  }
}

async function startTargets(dir: string): Promise<Target[]> {
  const body = '{"ok":true}';
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  // Cleanups run in reverse: drop the keep-alive sockets, then close.
  cleanups.push(() => new Promise((ok) => upstream.close(ok)));
  cleanups.push(() => upstream.closeAllConnections());
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  const bare = Fastify({ logger: false });
  await bare.register(httpProxy, { upstream: upstreamUrl });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => bare.close());

  const q = JSON.stringify;
  const toml = `
[server]
data_dir = ${q(dir)}
log_level = "warn"
[admin]
listen = ""
[store]
url = ${q(`sqlite:${join(dir, 'bench.db')}`)}
[[route]]
name = "open"
host = "*"
path = "/open"
upstream = ${q(upstreamUrl)}
auth = "none"
[[route]]
name = "api"
host = "*"
path = "/api"
upstream = ${q(upstreamUrl)}
auth = "bearer"
api = true
`;
  const loaded = loadConfigText(toml, { file: join(dir, 'bench.toml'), env: {} });
  if (!loaded.ok) throw new Error(`bench config rejected:\n  ${loaded.problems.join('\n  ')}`);
  const { config } = loaded;
  const store = openStore(config.store.url, systemClock);
  cleanups.push(() => store.close());
  const user = await createUser(store, {
    username: 'bench',
    email: 'bench@example.com',
    emailVerified: true,
  });
  const { token } = await new ApiTokenService(store, systemClock).issue({
    userId: user.id,
    name: 'bench',
    claims: null,
    expiresAt: null,
  });
  const gateway = await buildGateway({ config, store, clock: systemClock, logger: createLogger('warn') });
  cleanups.push(() => gateway.close());
  const gatewayUrl = await gateway.app.listen({ host: '127.0.0.1', port: 0 });

  const targets: Target[] = [
    { name: 'direct upstream', url: `${upstreamUrl}/`, headers: {} },
    { name: 'bare proxy', url: `${bareUrl}/`, headers: {} },
    { name: 'gateway none', url: `${gatewayUrl}/open`, headers: {} },
    { name: 'gateway bearer', url: `${gatewayUrl}/api`, headers: { authorization: `Bearer ${token}` } },
  ];
  for (const t of targets) await expectStatus(t, 200);
  // The bearer route must really authenticate: without the token it is a 401, not a pass-through.
  await expectStatus(targets[3]!, 401, {});
  return targets;
}

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<number> {
  if (!Number.isInteger(DURATION) || DURATION < 1)
    throw new Error(`BENCH_DURATION must be whole seconds ≥ 1, got "${process.env.BENCH_DURATION}"`);
  const dir = mkdtempSync(join(tmpdir(), 'hero-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const targets = await startTargets(dir);

  const rows: Row[] = [];
  for (const t of targets) {
    log(`${t.name}: warm-up ${WARMUP}s, then ${DURATION}s × ${CONNECTIONS} connections`);
    await load(t, WARMUP);
    const r = await load(t, DURATION);
    const { non2xx, errors, timeouts } = r;
    const flagged = non2xx + errors + timeouts > 0;
    const { mean: rps } = r.requests;
    const { p50, p99 } = r.latency;
    rows.push({ target: t.name, rps, p50, p99, non2xx, errors, timeouts, flagged });
  }

  // [label, numerator row, denominator row] by index into `rows` (direct, bare, none, bearer).
  const pairs = [
    ['gateway none / bare proxy', 2, 1],
    ['gateway bearer / bare proxy', 3, 1],
    ['bare proxy / direct', 1, 0],
  ] as const;
  const ratioOf = (key: 'rps' | 'p99', a: number, b: number) => (rows[a]?.[key] ?? 0) / (rows[b]?.[key] ?? 0);
  const ratios = pairs.map(([label, a, b]) => ({
    label,
    rps: ratioOf('rps', a, b),
    p99: ratioOf('p99', a, b),
  }));
  const bearerVsBare = ratios[1]!.rps;
  const pass = bearerVsBare >= TARGET_RATIO;
  const failed = rows.some((r) => r.flagged);
  const env = { node: process.version, cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? '?' };
  const settings = { connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, pipelining: 1 };

  if (asJson) {
    const target = { bearerVsBareRps: TARGET_RATIO, actual: bearerVsBare, pass };
    console.log(JSON.stringify({ ...env, settings, results: rows, ratios, target, ok: !failed }, null, 2));
    return failed ? 1 : 0;
  }
  const head = ['target', 'req/s (mean)', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', ''];
  const lines = rows.map((r) => {
    const errs = String(r.errors + r.timeouts);
    return [r.target, fmt(r.rps), fmt(r.p50), fmt(r.p99), String(r.non2xx), errs, r.flagged ? 'FLAGGED' : ''];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const row = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[0]!)));
  console.log(`\nNode ${env.node}, ${env.cpus} CPUs (${env.cpuModel})`);
  console.log(`${CONNECTIONS} connections, pipelining 1, ${DURATION}s per target after ${WARMUP}s warm-up`);
  console.log('(latency has 1 ms resolution; load generator on a worker thread)\n');
  for (const l of [head, ...lines]) console.log(row(l).join('  ').trimEnd());
  console.log(`\n${'ratio'.padEnd(30)}${'req/s'.padStart(8)}${'p99'.padStart(8)}`);
  for (const r of ratios)
    console.log(`${r.label.padEnd(30)}${fmt(r.rps, 3).padStart(8)}${fmt(r.p99, 3).padStart(8)}`);
  const verdict = pass ? 'PASS' : 'BELOW';
  console.log(
    `\ntarget: bearer route ≥ ${TARGET_RATIO}× bare proxy req/s: ${fmt(bearerVsBare, 3)} ${verdict}`,
  );
  if (failed)
    console.log('\nFLAGGED runs had non-2xx responses, errors or timeouts: their numbers are not valid');
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
