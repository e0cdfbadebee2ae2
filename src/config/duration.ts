// Durations in the config ("90s", "15m", "12h", "7d") as milliseconds.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

// A century: longer is a typo, and past it dates stop being representable.
const MAX_MS = 100 * 365 * 86_400_000;

export function parseDuration(text: string): number | null {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * (UNITS[m[2]!] as number);
  return ms > 0 && ms <= MAX_MS ? ms : null;
}

/** "90d" → 7776000000; used by the CLI for --expires. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
