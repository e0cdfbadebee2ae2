// Awaiting a condition instead of sleeping a guessed time: poll until the probe gives a truthy value, or fail
// with what was being waited for and the last thing the probe saw.

export interface UntilOptions {
  /** What is awaited, for the error message. */
  what?: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns a truthy value (which is returned) or the deadline passes. A probe that throws
 * counts as "not yet" (a server that is not up yet refuses connections); its last error is in the failure.
 */
export async function until<T>(
  probe: () => T | Promise<T>,
  opts: UntilOptions = {},
): Promise<Exclude<T, null | undefined | false | 0 | ''>> {
  const { what = 'a condition', timeoutMs = 10_000, intervalMs = 25 } = opts;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as Exclude<T, null | undefined | false | 0 | ''>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
