// The start-time warning for a public_url that sends session cookies in the clear.
import { isSecureContextHost } from '../core/loopback.ts';

/**
 * The warning for a plain-http public_url on a host other machines reach, or null. Session cookies and
 * passwords would then cross the network unencrypted, readable and replayable by anyone on the path.
 */
export function plainHttpWarning(publicUrl: string): string | null {
  const url = new URL(publicUrl);
  if (url.protocol !== 'http:' || isSecureContextHost(url.hostname)) return null;
  return (
    `server.public_url is plain http on ${url.host}: passwords and session cookies cross the network ` +
    'unencrypted. Outside development use https: set server.tls_cert and tls_key, or put a TLS proxy in front ' +
    'and set public_url to its https address'
  );
}
