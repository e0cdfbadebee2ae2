// Paired comparison: each gateway route and the bare proxy loaded at the same moment, each by its own
// autocannon thread with the same number of connections, for a few slices. On a small shared machine the speed
// of everything drifts by tens of percent from one second to the next (the direct upstream alone has been seen
// between 15k and 45k req/s within a minute), so two targets measured a minute apart differ by more than what
// either costs. Loaded together, both see the same machine; their ratio is what one costs against the other.
// A second bare-proxy process loaded against the first is the control: its ratios show how far apart two
// identical processes land, the noise floor every other row is read against. Latencies come from
// bench/fine-load.ts (10 µs resolution), so a p99 ratio is not a ratio of whole milliseconds.
import { cpuMicros } from './cpu.ts';
import { runFineLoad } from './fine-load.ts';
import { median, sum } from './load.ts';

export interface PairTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
  pid?: number | undefined;
}

/** One target against the reference over one round's slices. */
export interface PairResult {
  name: string;
  /** The target's requests over the reference's, all slices together. */
  rps: number;
  /** The median over the slices of the target's p99 over the reference's. */
  p99: number;
  /** The target's CPU time per request over the reference's; null when either is not measured. */
  cpu: number | null;
  /** Non-2xx answers, errors and timeouts on either side: the numbers are not valid then. */
  flagged: boolean;
}

export interface PairTiming {
  warmup: number;
  duration: number;
  slices: number;
  connections: number;
}

interface Side {
  requests: number;
  p99: number;
  cpuUs: number | null;
  flagged: boolean;
}

async function side(t: PairTarget, duration: number, connections: number): Promise<Side> {
  const before = cpuMicros(t.pid);
  const r = await runFineLoad({ url: t.url, headers: t.headers, connections, duration });
  const after = cpuMicros(t.pid);
  return {
    requests: r.requests,
    p99: r.p99,
    cpuUs: before === null || after === null ? null : after - before,
    flagged: r.non2xx + r.errors > 0,
  };
}

export async function pairWith(
  reference: PairTarget,
  target: PairTarget,
  timing: PairTiming,
  onSlice: (slice: number) => void = () => {},
): Promise<PairResult> {
  const { warmup, duration, slices, connections } = timing;
  await Promise.all([side(reference, warmup, connections), side(target, warmup, connections)]);
  const refs: Side[] = [];
  const tgts: Side[] = [];
  for (let i = 0; i < slices; i++) {
    onSlice(i);
    // Whichever load starts first gets its connections in first: the two take turns.
    const first = i % 2 === 0 ? reference : target;
    const second = first === reference ? target : reference;
    const [a, b] = await Promise.all([
      side(first, duration, connections),
      side(second, duration, connections),
    ]);
    const [r, t] = first === reference ? [a, b] : [b, a];
    refs.push(r);
    tgts.push(t);
  }
  const requests = (xs: Side[]) => sum(xs.map((x) => x.requests));
  const cpuPer = (xs: Side[]) =>
    xs.some((x) => x.cpuUs === null) ? null : sum(xs.map((x) => x.cpuUs as number)) / requests(xs);
  const cpuRef = cpuPer(refs);
  const cpuTgt = cpuPer(tgts);
  return {
    name: target.name,
    rps: requests(tgts) / requests(refs),
    p99: median(tgts.map((t, i) => t.p99 / (refs[i] as Side).p99)),
    cpu: cpuRef === null || cpuTgt === null ? null : cpuTgt / cpuRef,
    flagged: [...refs, ...tgts].some((x) => x.flagged),
  };
}

/** The medians over rounds of each target's paired ratios. */
export function medianPairs(rounds: PairResult[][]): PairResult[] {
  const names = rounds[0]?.map((r) => r.name) ?? [];
  return names.map((name) => {
    const rs = rounds.map((round) => round.find((r) => r.name === name)).filter((r) => r !== undefined);
    return {
      name,
      rps: median(rs.map((r) => r.rps)),
      p99: median(rs.map((r) => r.p99)),
      cpu: rs.some((r) => r.cpu === null) ? null : median(rs.map((r) => r.cpu as number)),
      flagged: rs.some((r) => r.flagged),
    };
  });
}
