// Host names of this machine, as a URL spells them: where plain http is still private (browsers also treat
// them as secure contexts, so Secure cookies work there).
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for a URL `hostname` that names this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}
