// Which pages may open a cookie-authenticated WebSocket: the same rule for upgrades the gateway tunnels and
// for upgrades a front proxy asks forward-auth about.

export interface OriginFacts {
  proto: string;
  host: { hostname: string; authority: string };
  snapshot: { publicOrigin: string };
}

/**
 * Only this page's own origin, or public_url's. Not every host the gateway serves: a sibling under a wildcard
 * route is another app, and its pages must not open tunnels with this host's users' cookies. `anyPort` is for
 * nginx's forward-auth, whose `$host` carries no port: the host name and scheme must still match.
 */
export function originAllowed(origin: string | undefined, s: OriginFacts, anyPort = false): boolean {
  if (!origin || origin === 'null') return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin === s.snapshot.publicOrigin) return true;
  if (url.protocol !== `${s.proto}:`) return false;
  return anyPort ? url.hostname === s.host.hostname : url.host === s.host.authority;
}
