// The audit line for an account handed to whoever proved its address, the same from every way of proving it
// (confirmation link, sign-in link, reset link, identity provider): what was removed, as counts.
import type { FastifyRequest } from 'fastify';
import type { OwnershipReset, User } from '../../core/records.ts';
import type { PagesDeps } from './deps.ts';

/** What this module uses of the pages' dependencies. */
export type TakeoverAuditDeps = Pick<PagesDeps, 'audit'>;

export function auditTakeover(
  request: FastifyRequest,
  deps: TakeoverAuditDeps,
  user: User,
  reset: OwnershipReset,
  via: string,
): void {
  deps.audit.record({
    action: 'account.takeover_reset',
    actor: user.username,
    target: user.username,
    ip: request.hero.clientIp,
    detail: {
      via,
      password_removed: reset.password,
      identities_removed: reset.identities,
      provider_groups_left: reset.groups,
      sessions_ended: reset.sessions,
      api_tokens_revoked: reset.apiTokens,
      second_factors_removed: reset.secondFactors,
    },
  });
}
