// Who holds which claims, once for every entry point: roles, grants and group members. Nobody hands out what
// they do not hold: granting a role or changing a group's members needs every claim that brings.
import { mayHandOut, mayManage } from '../../core/account-policy.ts';
import { LABEL, NAME } from '../../core/names.ts';
import type { Grant, GrantSubject, Role, User } from '../../core/records.ts';
import type { AuditLog } from '../../ports/audit.ts';
import type { Store } from '../../ports/store.ts';
import { checkClaims } from '../users.ts';
import type { AccountAccess } from './access.ts';
import { AccountError, type Actor, actorFields } from './actor.ts';

/** A role name `setRole` accepts; pure, so an entry point can refuse before it opens anything. */
export function checkRoleName(name: string): void {
  if (!NAME.test(name))
    throw new AccountError(
      'invalid_input',
      `role "${name}" must be lower-case letters, digits, ".", "_" or "-"`,
    );
  // The built-in admin role is what lets operators back in; replacing its claims could lock everyone out.
  if (name === 'admin')
    throw new AccountError(
      'invalid_input',
      'the built-in role "admin" cannot be changed; create another role',
    );
}

/** Whom a grant names: a user (by username) or a group. */
export type GrantTarget = { user: string } | { group: string };

export interface GroupMembers {
  name: string;
  members: string[];
}

export class AuthzAccounts {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #access: AccountAccess;

  constructor(deps: { store: Store; audit: AuditLog; access: AccountAccess }) {
    this.#store = deps.store;
    this.#audit = deps.audit;
    this.#access = deps.access;
  }

  listRoles(): Promise<Role[]> {
    return this.#store.authz.listRoles();
  }

  listGrants(): Promise<Grant[]> {
    return this.#store.authz.listGrants();
  }

  groupsOf(userId: string): Promise<string[]> {
    return this.#store.authz.groupsOf(userId);
  }

  /** Every group with its members' usernames, by group name. */
  async groups(): Promise<GroupMembers[]> {
    const members = new Map<string, string[]>();
    for (const u of await this.#store.users.list())
      for (const g of await this.#store.authz.groupsOf(u.id))
        members.set(g, [...(members.get(g) ?? []), u.username]);
    return [...members]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, users]) => ({ name, members: users }));
  }

  /** Creates a role or replaces its claims. Returns the sorted claims. */
  async setRole(actor: Actor, name: string, claims: readonly string[]): Promise<string[]> {
    checkRoleName(name);
    // A role's claims reach everyone it is granted to: only an actor holding every claim defines one.
    if ((await this.#access.authority(actor)) !== 'all')
      throw new AccountError('forbidden', 'only an account holding every claim may define a role');
    const sorted = checkClaims(claims);
    await this.#store.authz.setRole(name, sorted);
    this.#audit.record({
      action: 'role.set',
      ...actorFields(actor),
      target: name,
      detail: { claims: sorted },
    });
    return sorted;
  }

  /** Grants (or, with `remove`, revokes) a role. Returns false when nothing changed. */
  async grant(
    actor: Actor,
    role: string,
    to: GrantTarget,
    context: string,
    remove = false,
  ): Promise<{ changed: boolean; label: string }> {
    const claims = (await this.listRoles()).find((r) => r.name === role)?.claims;
    if (!claims) throw new AccountError('not_found', `no role named "${role}"`);
    if (!mayHandOut(await this.#access.authority(actor), claims))
      throw new AccountError('forbidden', `role ${role} brings claims you do not hold`);
    const { subject, label } = await this.#subject(to);
    const changed = remove
      ? await this.#store.authz.revoke(role, subject, context)
      : await this.#store.authz.grant(role, subject, context);
    if (changed)
      this.#audit.record({
        action: remove ? 'grant.remove' : 'grant.add',
        ...actorFields(actor),
        target: label,
        detail: { role, context },
      });
    return { changed, label };
  }

  /**
   * Adds a user to a group (or, with `remove`, takes them out). Both ways need the group's claims: adding
   * hands them out, removing can bring a stronger account down to where the actor may take it over; removing
   * also needs the actor to outrank the member.
   */
  async setMember(actor: Actor, group: string, member: User, remove = false): Promise<boolean> {
    if (!LABEL.test(group))
      throw new AccountError(
        'invalid_input',
        `group "${group}" must be letters, digits, ".", "_", ":" or "-"`,
      );
    const authority = await this.#access.authority(actor);
    if (!mayHandOut(authority, await this.#groupClaims(group)))
      throw new AccountError('forbidden', `group ${group} brings claims you do not hold`);
    if (remove && !mayManage(authority, await this.#access.heldClaims(member.id)))
      throw new AccountError('forbidden', `${member.username} holds claims you do not hold`);
    const changed = remove
      ? await this.#store.authz.removeMember(group, member.id)
      : await this.#store.authz.addMember(group, member.id);
    if (changed)
      this.#audit.record({
        action: remove ? 'group.remove' : 'group.add',
        ...actorFields(actor),
        target: group,
        detail: { user: member.username },
      });
    return changed;
  }

  /** Claims a group brings to its members, in every context. */
  async #groupClaims(group: string): Promise<string[]> {
    const roles = new Map((await this.listRoles()).map((r) => [r.name, r.claims]));
    return (await this.listGrants()).filter((g) => g.group === group).flatMap((g) => roles.get(g.role) ?? []);
  }

  async #subject(to: GrantTarget): Promise<{ subject: GrantSubject; label: string }> {
    if ('group' in to) {
      if (!LABEL.test(to.group))
        throw new AccountError(
          'invalid_input',
          `group "${to.group}" must be letters, digits, ".", "_", ":" or "-"`,
        );
      return { subject: { group: to.group }, label: `@${to.group}` };
    }
    const user = await this.#store.users.byUsername(to.user);
    if (!user) throw new AccountError('not_found', `no user named "${to.user}"`);
    return { subject: { userId: user.id }, label: user.username };
  }
}
