// The throughput stage's text report (bench/run.ts): the main table, the sequential ratios, the paired ratios
// against the bare proxy and the verdicts on the targets.
import { fmt, type Row } from './load.ts';
import type { PairResult } from './paired.ts';

export interface Ratio {
  label: string;
  rps: number;
  p99: number;
  cpu: number;
}

export interface Verdict {
  route: string;
  rps: number;
  p99: number;
  pass: boolean;
}

export interface ThroughputReport {
  env: { node: string; cpus: number; cpuModel: string };
  settings: { connections: number; duration: number; warmup: number; rounds: number; slices: number };
  rows: Row[];
  ratios: Ratio[];
  paired: PairResult[];
  /** The paired control's name: a second bare proxy, the noise floor. */
  control: string;
  targets: { rps: number; p99: number };
  verdicts: Verdict[];
  /** Access lines the default-config gateway wrote. */
  logged: number;
}

export function printThroughput(r: ThroughputReport): void {
  const { env, settings: s } = r;
  const head = ['target', 'req/s (mean)', 'p50 ms', 'p99 ms', 'CPU µs/req', 'non-2xx', 'errors', ''];
  const lines = r.rows.map((row) => {
    const errs = String(row.errors + row.timeouts);
    const cpu = row.cpuUs === null ? '-' : fmt(row.cpuUs);
    const flag = row.flagged ? 'FLAGGED' : '';
    return [row.target, fmt(row.rps), fmt(row.p50), fmt(row.p99), cpu, String(row.non2xx), errs, flag];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const row = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[0]!)));
  console.log(`\nNode ${env.node}, ${env.cpus} CPUs (${env.cpuModel})`);
  console.log(
    `${s.connections} connections, pipelining 1, ${s.duration}s per target after ${s.warmup}s warm-up, ` +
      `${s.rounds} rounds in rotating order, Node proxies started afresh each round (medians)`,
  );
  console.log(
    '(latency has 1 ms resolution; load generator on a worker thread; upstream in its own process)\n',
  );
  for (const l of [head, ...lines]) console.log(row(l).join('  ').trimEnd());
  console.log(`\n${'ratio'.padEnd(42)}${'req/s'.padStart(8)}${'p99'.padStart(8)}${'CPU/req'.padStart(9)}`);
  for (const x of r.ratios) {
    const cells = [fmt(x.rps, 3).padStart(8), fmt(x.p99, 3).padStart(8), fmt(x.cpu, 3).padStart(9)];
    console.log(`${x.label.padEnd(42)}${cells.join('')}`);
  }
  console.log(
    `\npaired: loaded at the same moment as the bare proxy, ${s.connections} connections each, ` +
      `${s.slices} × ${s.duration}s per round, p99 at 10 µs resolution (medians over rounds)`,
  );
  for (const x of r.paired) {
    const cells = [
      fmt(x.rps, 3).padStart(8),
      fmt(x.p99, 3).padStart(8),
      fmt(x.cpu ?? Number.NaN, 3).padStart(9),
    ];
    const label = `${x.name} / bare proxy${x.name === r.control ? ' (noise floor)' : ''}`;
    console.log(`${label.padEnd(42)}${cells.join('')}${x.flagged ? '  FLAGGED' : ''}`);
  }
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'BELOW');
  console.log(
    `\ntargets, paired (default logging vs bare proxy): req/s ≥ ${r.targets.rps}×, p99 ≤ ${r.targets.p99}× ` +
      `(the default-config gateway wrote ${r.logged} access lines)`,
  );
  for (const v of r.verdicts)
    console.log(`  ${v.route.padEnd(16)} req/s ${fmt(v.rps, 3)}  p99 ${fmt(v.p99, 3)}  ${verdict(v.pass)}`);
}
