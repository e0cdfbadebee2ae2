// Who keeps an account when its address is proven: anyone can register any address (or claim it at an
// identity provider), so until the address is proven the account's password and links may be a stranger's.
// Whoever proves the address keeps them only by showing they set or know the password; otherwise they take
// the account over, and everything set before the proof goes (see UserStore.resetOwnership).
import type { User } from '../ports/store.ts';

/** What the person confirming an address brings, gathered by the page. */
export interface OwnershipClaim {
  /** This browser set or proved the account's current password (a signed cookie, see http/pages/password-proof). */
  browserKnowsPassword: (user: User) => boolean;
  /** Checks (and throttles, like a sign-in) the password typed on the confirm page; null when none was typed. */
  checkPassword: ((user: User) => Promise<'ok' | 'failed' | number>) | null;
  /** The confirmer says they did not set a password here, or do not know it. */
  takeOver: boolean;
}

export type Judgement =
  /** The account's credentials are the confirmer's own: confirm the address and keep them. */
  | { kind: 'keep'; because: 'already_confirmed' | 'same_browser' | 'password' }
  /** The confirmer owns the address but not what was set on the account: reset it, then confirm. */
  | { kind: 'take_over' }
  /** Nothing proves the password and no choice was made: ask. */
  | { kind: 'ask' }
  | { kind: 'wrong_password' }
  | { kind: 'throttled'; retryAfterMs: number };

/** The ordered steps of confirming an address; nothing is changed here. */
export async function judgeOwnership(user: User, claim: OwnershipClaim): Promise<Judgement> {
  // Proven before (a mailed link, an operator, a provider that verified it): whatever the account holds now was
  // set after its owner arrived.
  if (user.emailVerifiedAt !== null) return { kind: 'keep', because: 'already_confirmed' };
  // An explicit "not mine" wins even over a proof: a browser shared with the registrant must still be able
  // to take the account back.
  if (claim.takeOver) return { kind: 'take_over' };
  if (claim.browserKnowsPassword(user)) return { kind: 'keep', because: 'same_browser' };
  if (claim.checkPassword === null) return { kind: 'ask' };
  const checked = await claim.checkPassword(user);
  if (typeof checked === 'number') return { kind: 'throttled', retryAfterMs: checked };
  return checked === 'ok' ? { kind: 'keep', because: 'password' } : { kind: 'wrong_password' };
}
