// Who is changing an account, as every use case in services/accounts/ takes it, and the one error those use
// cases refuse with. Entry points build an Actor from what authenticated the request and map AccountError to
// their own answer (a problem+json code, a page alert, a CLI line).
import type { User } from '../../core/records.ts';
import type { AuditEvent } from '../../ports/audit.ts';

export type Actor =
  /** At the machine (the CLI): whoever can run it can open the store file, so it may do anything. */
  | { kind: 'operator'; name: string }
  /** An admin API caller: an account's API token, with the global claims it carries now. */
  | { kind: 'caller'; user: User; claims: readonly string[]; limited: boolean }
  /** Someone on their own account page, signed in with this session. */
  | { kind: 'owner'; user: User; sessionId: string; ip: string | null };

export const operator = (name: string): Actor => ({ kind: 'operator', name });

/** The audit fields that name the actor. */
export function actorFields(actor: Actor): Pick<AuditEvent, 'actor' | 'ip'> {
  if (actor.kind === 'operator') return { actor: actor.name };
  if (actor.kind === 'owner') return { actor: actor.user.username, ip: actor.ip };
  return { actor: actor.user.username };
}

export type AccountErrorCode = 'invalid_input' | 'forbidden' | 'not_found';

/** A use case refused: a stable code and one line saying why (safe to show the actor). */
export class AccountError extends Error {
  readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.name = 'AccountError';
    this.code = code;
  }
}
