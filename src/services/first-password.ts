// A first password for an account that has none (taken over, or created by a mailed link), chosen without a
// current one to prove: only from a session a mailed link started minutes ago.
import { hashPassword } from '../crypto/password.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { LINK_TTL_MS } from './one-time-links.ts';
import { passwordProblem } from './password-policy.ts';
import type { ActiveSession } from './sessions.ts';

/** As long as a sign-in link lives: the session proves what such a link proves, no longer. */
export const FIRST_PASSWORD_WINDOW_MS = LINK_TTL_MS.magic_login;

export type FirstPasswordResult =
  | { kind: 'ok'; sessionsEnded: number }
  | { kind: 'invalid'; problem: string }
  | { kind: 'not_allowed' };

/**
 * Whether this session may set the account's first password. A session a mailed link started minutes ago
 * proves control of the inbox right now, which is all "Forgot your password?" would prove; an older session
 * (a borrowed laptop, a stolen cookie) or one from a provider proves neither, and an account that has a
 * password changes it only with the current one.
 */
export async function mayChooseFirstPassword(
  store: Store,
  clock: Clock,
  active: ActiveSession,
): Promise<boolean> {
  const { session, user } = active;
  if (session.authMethod !== 'magic_link') return false;
  if (clock.now() - session.createdAt > FIRST_PASSWORD_WINDOW_MS) return false;
  return (await store.users.passwordHash(user.id)) === null;
}

/** Sets the first password and ends the user's other sessions in the same step. */
export async function chooseFirstPassword(
  store: Store,
  clock: Clock,
  active: ActiveSession,
  password: string,
  minLength: number,
): Promise<FirstPasswordResult> {
  if (!(await mayChooseFirstPassword(store, clock, active))) return { kind: 'not_allowed' };
  const { user, session } = active;
  const problem = passwordProblem(password, { minLength, username: user.username, email: user.email });
  if (problem) return { kind: 'invalid', problem: `${problem.charAt(0).toUpperCase()}${problem.slice(1)}.` };
  const hash = await hashPassword(password);
  const others = (await store.sessions.listActive(user.id, clock.now())).filter((s) => s.id !== session.id);
  await store.users.setPasswordHash(user.id, hash, { endSessions: { now: clock.now(), except: session.id } });
  return { kind: 'ok', sessionsEnded: others.length };
}
