// Host names of this machine, as a URL's `hostname` spells them (WHATWG URL has already normalized IPv4 forms
// like "127.1" to "127.0.0.1"). One definition for every decision that depends on "only this machine".

const IPV4_LOOPBACK = /^127(\.\d{1,3}){3}$/;

/**
 * True for a host every client resolves to this machine without asking DNS: `localhost`, 127.0.0.0/8 and
 * [::1]. The gateway's own connections (an identity provider over plain http) may only trust these.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || IPV4_LOOPBACK.test(hostname);
}

/**
 * True for a host browsers treat as a secure context although it is plain http: the loopback hosts and any
 * `*.localhost` name (browsers map those to loopback themselves, RFC 6761). Secure cookies work there, and
 * nothing crosses the network; a server-side fetch must not rely on the `*.localhost` part (a resolver may
 * answer it), so that uses isLoopbackHost.
 */
export function isSecureContextHost(hostname: string): boolean {
  return isLoopbackHost(hostname) || hostname.endsWith('.localhost');
}
