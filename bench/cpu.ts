// CPU time a server process (and its children: nginx's worker, the gateway's cluster workers) spends, from
// /proc: on a 2-core machine shared with the load generator and the upstream, req/s moves with scheduling,
// while CPU time per request is what the server itself costs. Linux only; elsewhere null.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let tickUs: number | null | undefined;

/** Microseconds per clock tick (utime/stime units), or null where /proc is not there. */
function microsPerTick(): number | null {
  if (tickUs !== undefined) return tickUs;
  try {
    readFileSync('/proc/self/stat');
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    tickUs = 1e6 / hz;
  } catch {
    tickUs = null;
  }
  return tickUs;
}

/** [ppid, utime + stime] of a process, from /proc/<pid>/stat (the name may hold spaces and parentheses). */
function stat(pid: number): [number, number] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return [Number(f[1]), Number(f[11]) + Number(f[12])];
  } catch {
    return null;
  }
}

/** CPU microseconds used so far by `pid` and all its descendants, or null where that cannot be read. */
export function cpuMicros(pid: number | undefined): number | null {
  const us = microsPerTick();
  if (us === null || pid === undefined) return null;
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) {
      parents.set(Number(name), s[0]);
      ticks.set(Number(name), s[1]);
    }
  }
  let total = 0;
  for (const [p, t] of ticks) {
    for (let q: number | undefined = p; q !== undefined && q > 1; q = parents.get(q))
      if (q === pid) {
        total += t;
        break;
      }
  }
  return ticks.has(pid) ? total * us : null;
}
