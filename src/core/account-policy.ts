// Who may change whose account, and what an API token may carry: the one rule set every entry point (account
// page, admin API, CLI) goes through, as pure functions over the claims involved.

/** Holds every claim, and so every finer gateway.* claim too. */
export const ADMIN_CLAIM = 'gateway.admin';

/**
 * What an actor can hand out or act over: every claim ('all': the operator at the machine, or an admin), or
 * exactly the claims listed.
 */
export type Authority = 'all' | ReadonlySet<string>;

export function authorityOf(claims: readonly string[]): Authority {
  return claims.includes(ADMIN_CLAIM) ? 'all' : new Set(claims);
}

export function covers(authority: Authority, claims: Iterable<string>): boolean {
  if (authority === 'all') return true;
  for (const c of claims) if (!authority.has(c)) return false;
  return true;
}

/**
 * Changing an account (password, address, disable, delete, sessions, reset mail) can take it over, so the
 * actor must already hold every claim the account holds, in any context: helpdesk cannot take over an admin.
 */
export function mayManage(authority: Authority, targetClaims: Iterable<string>): boolean {
  return covers(authority, targetClaims);
}

export type TokenClaimsDecision =
  | { ok: true; claims: string[] | null }
  | { ok: false; reason: 'not_yours' | 'claims_not_held' };

/**
 * The claims a new API token carries, or why it may not exist. One rule for every way a token is made:
 * - a token acts as its owner, so only someone with every claim ('all') may make one for someone else;
 * - a token never names a claim its issuer does not hold (the claims are sorted and deduplicated);
 * - without a list, a token an unlimited issuer makes follows its owner's claims (null); one made by an issuer
 *   that is itself limited (a narrowed API token) is frozen to what that issuer holds now, so a narrowed
 *   token can never mint a broader one.
 */
export function tokenClaims(input: {
  authority: Authority;
  /** The issuer acts through a narrowed credential (an API token with a claim list). */
  issuerLimited: boolean;
  forSelf: boolean;
  requested: readonly string[] | null;
}): TokenClaimsDecision {
  const { authority, forSelf, requested } = input;
  if (!forSelf && authority !== 'all') return { ok: false, reason: 'not_yours' };
  if (requested !== null) {
    if (!covers(authority, requested)) return { ok: false, reason: 'claims_not_held' };
    return { ok: true, claims: [...new Set(requested)].sort() };
  }
  if (authority !== 'all' && input.issuerLimited) return { ok: true, claims: [...authority].sort() };
  return { ok: true, claims: null };
}

/** Granting a role or changing a group's members hands out (or can bring down to reach) its claims. */
export const mayHandOut = covers;
