// What the gateway learns about a request as it passes the hooks, kept on `request.hero`.
import type { CanonicalHost } from '../core/normalize.ts';
import type { Principal } from '../core/principal.ts';
import type { CompiledRoute } from '../core/routes.ts';
import type { Snapshot } from './snapshot.ts';

export interface HeroRequestState {
  /** The config snapshot this request started with; a reload never changes it mid-request. */
  snapshot: Snapshot;
  path: string;
  forward: string;
  query: string;
  host: CanonicalHost;
  proto: 'http' | 'https';
  clientIp: string;
  forwardedFor: string;
  route: CompiledRoute | null;
  principal: Principal | null;
  claims: readonly string[];
  /** The signed X-Hero-Assertion for an admitted principal. */
  assertion: string | null;
  /** Set when the request went to an upstream (for metrics). */
  forwarded: boolean;
  /** The request is for the gateway's own endpoints under auth_prefix. */
  onAuthPath: boolean;
  /** Set from the decision: the Authorization header was the credential that admitted the request. */
  consumedAuthorization: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    hero: HeroRequestState;
  }
}
