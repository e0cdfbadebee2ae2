// A server process's memory, from /proc: its resident set now and the most it has held since it started.
// Linux only; elsewhere null.
import { readFileSync } from 'node:fs';

export interface Memory {
  /** Resident set size (VmRSS), bytes. */
  rss: number;
  /** The largest resident set so far (VmHWM), bytes. */
  peak: number;
}

export function memoryOf(pid: number | undefined): Memory | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rss = kb('VmRSS') * 1024;
    const peak = kb('VmHWM') * 1024;
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss, peak } : null;
  } catch {
    return null;
  }
}

export const megabytes = (bytes: number | undefined) =>
  bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MB`;
