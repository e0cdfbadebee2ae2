// What an upstream receives, for proxied requests and WebSocket upgrades alike: one function, so both paths
// strip and set exactly the same headers.
import {
  type HeaderMap,
  setForwardedHeaders,
  setIdentityHeaders,
  stripClientHeaders,
  stripCookies,
} from '../core/headers.ts';
import type { HeroRequestState } from './state.ts';

const GATEWAY_TOKEN = /^\s*bearer\s+hgw_/i;

/**
 * What an upstream receives, for proxied requests and WebSocket upgrades alike: the client's copies of our
 * headers and the gateway's cookies removed first, then the forwarding and identity headers set.
 */
export function upstreamHeaders(s: HeroRequestState, headers: HeaderMap, requestId: string): HeaderMap {
  const route = s.route!;
  // A gateway token reaches an app only when it is what admitted the request and the route passes it on: on an
  // open route, or beside a session that admitted the request, it would hand an app a credential for others.
  const dropAuthorization = s.consumedAuthorization
    ? !route.pass_authorization
    : GATEWAY_TOKEN.test(String(headers.authorization ?? ''));
  stripClientHeaders(headers, dropAuthorization);
  // The session cookie is a bearer credential for every route: no app ever sees it (or the CSRF cookie).
  const cookie = headers.cookie;
  if (typeof cookie === 'string' && /hero_/i.test(cookie)) {
    const kept = stripCookies(cookie);
    if (kept === undefined) delete headers.cookie;
    else headers.cookie = kept;
  }
  setForwardedHeaders(headers, {
    forwardedFor: s.forwardedFor,
    proto: s.proto,
    host: s.host.authority,
    requestId,
  });
  if (s.principal) {
    setIdentityHeaders(headers, {
      username: s.principal.user.username,
      email: s.principal.user.email,
      context: route.context,
      claims: s.claims.join(','),
      authMethod: s.principal.method,
      assertion: s.assertion,
    });
  }
  return headers;
}
