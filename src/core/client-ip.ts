// Who the client is: the socket peer, unless the peer is a trusted proxy whose X-Forwarded-For we believe.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type TrustCheck = (address: string) => boolean;

export function compileTrustedProxies(cidrs: readonly string[]): TrustCheck {
  if (cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const c of cidrs) {
    const [ip, bits] = c.split('/') as [string, string | undefined];
    const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return (address) => {
    const a = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (isIPv4(a)) return list.check(a, 'ipv4');
    if (isIPv6(a)) return list.check(a, 'ipv6');
    return false;
  };
}

export interface ClientChain {
  /** The address the gateway treats as the client. */
  ip: string;
  /** X-Forwarded-For to send upstream. */
  forwardedFor: string;
}

/**
 * An untrusted peer's X-Forwarded-For is discarded (it could name anyone), so the chain starts at the peer.
 * Behind trusted proxies the chain is appended to, and the client is the right-most untrusted address.
 */
export function clientChain(
  peer: string,
  xff: string | string[] | undefined,
  trusted: TrustCheck,
): ClientChain {
  if (!trusted(peer) || xff === undefined) return { ip: peer, forwardedFor: peer };
  const incoming = (Array.isArray(xff) ? xff.join(',') : xff)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  let ip = peer;
  for (let i = incoming.length - 1; i >= 0; i--) {
    ip = incoming[i] as string;
    if (!trusted(ip)) break;
  }
  return { ip, forwardedFor: [...incoming, peer].join(', ') };
}
