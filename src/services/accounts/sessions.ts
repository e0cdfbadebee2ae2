// Ending sign-in sessions, once for every entry point: all of a user's, or one by id. Each checks the actor
// may change the session's owner and audits what ended.
import type { Session, User } from '../../core/records.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Store } from '../../ports/store.ts';
import type { AccountAccess } from './access.ts';
import { AccountError, type Actor, actorFields } from './actor.ts';

export class SessionAccounts {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #access: AccountAccess;

  constructor(deps: { store: Store; clock: Clock; audit: AuditLog; access: AccountAccess }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = deps.audit;
    this.#access = deps.access;
  }

  /** The user's sessions still usable now, newest first. */
  list(userId: string): Promise<Session[]> {
    return this.#store.sessions.listActive(userId, this.#clock.now());
  }

  /** Ends the user's sessions (on their own account page, all but the one in use); returns how many. */
  async endAll(actor: Actor, target: User): Promise<number> {
    await this.#access.requireManage(actor, target);
    const except = actor.kind === 'owner' ? actor.sessionId : undefined;
    const ended = await this.#store.sessions.revokeAllForUser(target.id, this.#clock.now(), except);
    this.#audit.record({
      action: 'session.end',
      ...actorFields(actor),
      target: actor.kind === 'owner' ? 'others' : target.username,
      detail: { sessions_ended: ended },
    });
    return ended;
  }

  /**
   * Ends one session by id. A session the actor may not see is answered exactly like an unknown one
   * (not_found), except for an API caller, who learns it is forbidden only for a session that exists.
   */
  async endOne(actor: Actor, sessionId: string): Promise<void> {
    const ownerId = await this.#store.sessions.ownerOf(sessionId);
    const owner = ownerId ? await this.#store.users.byId(ownerId) : null;
    if (!owner) throw new AccountError('not_found', `no active session with id "${sessionId}"`);
    await this.#access.requireManage(actor, owner);
    if (!(await this.#store.sessions.revoke(sessionId, this.#clock.now(), owner.id)))
      throw new AccountError('not_found', `no active session with id "${sessionId}"`);
    this.#audit.record({ action: 'session.end', ...actorFields(actor), target: sessionId });
  }
}
