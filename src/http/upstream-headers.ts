// What an upstream receives, for proxied requests and WebSocket upgrades alike: one function, so both paths
// strip and set exactly the same headers.
import { authMethodLabel } from '../core/amr.ts';
import {
  forwardableHeaders,
  type HeaderMap,
  setForwardedHeaders,
  setIdentityHeaders,
} from '../core/headers.ts';
import type { HeroRequestState } from './state.ts';

const GATEWAY_TOKEN = /^\s*bearer\s+hgw_/i;

/**
 * What an upstream receives, for proxied requests and WebSocket upgrades alike, as a new object (the client's
 * headers are left as they were): the client's copies of our headers and the gateway's cookies removed
 * first, then the forwarding and identity headers set.
 */
export function upstreamHeaders(s: HeroRequestState, headers: HeaderMap, requestId: string): HeaderMap {
  const route = s.route!;
  // A gateway token reaches an app only when it is what admitted the request and the route passes it on: on an
  // open route, or beside a session that admitted the request, it would hand an app a credential for others.
  const authorization = headers.authorization;
  const dropAuthorization = s.consumedAuthorization
    ? !route.pass_authorization
    : authorization !== undefined && GATEWAY_TOKEN.test(String(authorization));
  // The session cookie is a bearer credential for every route: no app ever sees it (or the CSRF cookie).
  const out = forwardableHeaders(headers, dropAuthorization);
  setForwardedHeaders(out, {
    forwardedFor: s.forwardedFor,
    proto: s.proto,
    host: s.host.authority,
    requestId,
  });
  if (s.principal) {
    setIdentityHeaders(out, {
      username: s.principal.user.username,
      email: s.principal.user.email,
      context: route.context,
      claims: s.claims.join(','),
      authMethod: authMethodLabel(s.principal.method, s.principal.secondFactor),
      assertion: s.assertion,
    });
  }
  return out;
}
