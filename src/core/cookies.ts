// Reading one cookie from a Cookie header without trusting its shape.

/**
 * The value of cookie `name`, or null when it is absent, empty, or present more than once. Two copies mean
 * two writers (a planted cookie from a sibling domain, or a stale path): rather than pick one, use neither.
 */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  let found: string | null = null;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      if (found !== null) return null;
      found = header.slice(eq + 1, end).trim();
    }
    start = end + 1;
  }
  return found === '' ? null : found;
}
