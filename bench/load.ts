// Shared bench plumbing: autocannon runs that can be stopped on Ctrl-C, and small statistics helpers.

import { createServer } from 'node:net';
import autocannon, { type Options, type Result } from 'autocannon';

export const log = (msg: string) => process.stderr.write(`${msg}\n`);
export const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

const running = new Set<ReturnType<typeof autocannon>>();

/**
 * One autocannon run. workers: 1 puts the load generator on its own thread, so it does not share the
 * servers' event loop; two runs at once (proxied load plus sign-ins) get a thread each.
 */
export async function runLoad(opts: Omit<Options, 'workers' | 'pipelining'>): Promise<Result> {
  const instance = autocannon({ ...opts, pipelining: 1, workers: 1 });
  running.add(instance);
  try {
    return await instance;
  } finally {
    running.delete(instance);
  }
}

export function stopLoads(): void {
  for (const instance of running) instance.stop();
  running.clear();
}

export function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  if (v.length === 0) return Number.NaN;
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** One target's numbers from one run (or, after aggregation, the medians over the rounds). */
export interface Row {
  target: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  flagged: boolean;
  /** CPU microseconds the target's process spent per request answered; null when not measured. */
  cpuUs: number | null;
}

export function toRow(target: string, r: Result, cpuMicros: number | null = null): Row {
  const { non2xx, errors, timeouts } = r;
  const { p50, p99 } = r.latency;
  const flagged = non2xx + errors + timeouts > 0;
  const cpuUs = cpuMicros === null || r.requests.total === 0 ? null : cpuMicros / r.requests.total;
  return { target, rps: r.requests.mean, p50, p99, non2xx, errors, timeouts, flagged, cpuUs };
}

export function medianRow(target: string, rs: Row[]): Row {
  return {
    target,
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    non2xx: sum(rs.map((r) => r.non2xx)),
    errors: sum(rs.map((r) => r.errors)),
    timeouts: sum(rs.map((r) => r.timeouts)),
    flagged: rs.some((r) => r.flagged),
    cpuUs: rs.some((r) => r.cpuUs === null) ? null : median(rs.map((r) => r.cpuUs as number)),
  };
}

/** A port free right now, for a process (nginx, a spawned gateway) that takes its port from a config file. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
