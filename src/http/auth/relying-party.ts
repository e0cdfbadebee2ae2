// The WebAuthn relying party: its ID is cookie_domain when sessions are shared across subdomains, else
// public_url's host; passkeys work on the origins the gateway serves under that name (a browser refuses a
// credential whose RP ID is not the page's host or a parent of it), and are not offered anywhere else.
import type { Config } from '../../config/load.ts';
import type { RouteTable } from '../../core/routes.ts';
import type { RelyingParty } from '../../services/second-factor/passkeys.ts';

export function relyingParty(config: Config, table: RouteTable): RelyingParty {
  const pub = new URL(config.server.public_url);
  const id = (config.session.cookie_domain ?? pub.hostname).replace(/^\./, '').toLowerCase();
  const origins = new Set([pub.origin]);
  for (const r of table.routes) {
    if (r.hostRank !== 0) continue;
    const origin = new URL(`${pub.protocol}//${r.host}`);
    if (origin.hostname === id || origin.hostname.endsWith(`.${id}`)) origins.add(origin.origin);
  }
  return { id, name: config.branding.title, origins: [...origins] };
}
