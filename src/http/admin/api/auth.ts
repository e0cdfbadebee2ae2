// Who calls the admin API: an API token (Authorization: Bearer) and the claims its user holds globally,
// narrowed by the token. Session cookies are never read here: a browser cannot be tricked into an admin call.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { narrowClaims } from '../../../core/claims.ts';
import type { User } from '../../../core/records.ts';
import type { Actor } from '../../../services/accounts/actor.ts';
import type { ApiTokenService } from '../../../services/api-tokens.ts';
import type { AuthzFreshness } from '../../../services/authz-freshness.ts';
import type { ClaimResolver } from '../../../services/claims.ts';
import { sendProblem } from '../../problem.ts';

export interface AdminCaller {
  user: User;
  claims: readonly string[];
  /** The token names a claim list (it is narrowed): what it mints can carry no more. */
  limited: boolean;
}

/** The caller as the account use cases take it. */
export const callerActor = (caller: AdminCaller): Actor => ({ kind: 'caller', ...caller });

declare module 'fastify' {
  interface FastifyRequest {
    adminCaller: AdminCaller | null;
  }
}

const ADMIN_CLAIMS = [
  'gateway.users.read',
  'gateway.users.write',
  'gateway.tokens.write',
  'gateway.sessions.write',
  'gateway.config.write',
];

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export function adminAuth(deps: {
  tokens: ApiTokenService;
  claims: ClaimResolver;
  freshness: AuthzFreshness;
}) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    request.adminCaller = null;
    const m = BEARER.exec(request.headers.authorization ?? '');
    const principal = m ? (await deps.freshness.refresh(), await deps.tokens.verify(m[1] as string)) : null;
    if (!principal) {
      // The same answer for every failure, as on proxied bearer routes.
      reply.header('www-authenticate', 'Bearer realm="hero-gateway-admin"');
      sendProblem(reply, 'auth_required');
      return;
    }
    const held = await deps.claims.claimsFor(principal.user.id, '');
    // gateway.admin holds every finer admin claim, so an admin's token can be narrowed to one of them.
    const expanded = held.includes('gateway.admin') ? [...new Set([...held, ...ADMIN_CLAIMS])] : held;
    request.adminCaller = {
      user: principal.user,
      claims: narrowClaims(expanded, principal.claimLimit),
      limited: principal.claimLimit !== null,
    };
  };
}
