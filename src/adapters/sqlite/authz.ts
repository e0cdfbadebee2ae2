// Groups, memberships, roles, role claims and grants in SQLite.
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AuthzStore, ClaimGrant, Grant, GrantSubject, Role } from '../../ports/store.ts';
import type { ChangeSignal } from './change-signal.ts';
import type { Db } from './db.ts';

export function sqliteAuthz(db: Db, clock: Clock, changes: ChangeSignal): AuthzStore {
  const version = db.prepare("SELECT value FROM meta WHERE key = 'authz_version'").pluck();
  let known: number | null = null;
  // Claims from roles granted to the user directly or to any group the user belongs to.
  const claimGrants = db.prepare(
    `SELECT DISTINCT g.context AS context, rc.claim AS claim
       FROM grants g JOIN role_claims rc ON rc.role_id = g.role_id
      WHERE g.user_id = @userId
         OR g.group_id IN (SELECT group_id FROM group_members WHERE user_id = @userId)`,
  );
  const roleId = db.prepare('SELECT id FROM roles WHERE name = ?').pluck();
  const insertRole = db.prepare(
    'INSERT INTO roles (id, name, builtin, created_at, updated_at) VALUES (?, ?, 0, ?, ?)',
  );
  const touchRole = db.prepare('UPDATE roles SET updated_at = ? WHERE id = ?');
  const clearClaims = db.prepare('DELETE FROM role_claims WHERE role_id = ?');
  const addClaim = db.prepare('INSERT OR IGNORE INTO role_claims (role_id, claim) VALUES (?, ?)');
  const roles = db.prepare(
    `SELECT r.name, r.builtin, group_concat(rc.claim, ' ') AS claims FROM roles r
       LEFT JOIN role_claims rc ON rc.role_id = r.id GROUP BY r.id ORDER BY r.name`,
  );
  const groupId = db.prepare('SELECT id FROM groups WHERE name = ?').pluck();
  const insertGroup = db.prepare('INSERT INTO groups (id, name, created_at) VALUES (?, ?, ?)');
  const addMember = db.prepare(
    'INSERT OR IGNORE INTO group_members (group_id, user_id, source, created_at) VALUES (?, ?, ?, ?)',
  );
  const removeMember = db.prepare('DELETE FROM group_members WHERE group_id = ? AND user_id = ?');
  const membersFrom = db
    .prepare(
      'SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? AND m.source = ?',
    )
    .pluck();
  const removeFrom = db.prepare(
    'DELETE FROM group_members WHERE user_id = ? AND source = ? AND group_id = (SELECT id FROM groups WHERE name = ?)',
  );
  const syncTx = db.transaction((userId: string, source: string, groups: readonly string[], now: number) => {
    const wanted = new Set(groups);
    for (const name of membersFrom.all(userId, source) as string[])
      if (!wanted.has(name)) removeFrom.run(userId, source, name);
    for (const name of wanted) addMember.run(ensureGroup(name, now), userId, source, now);
  });
  const groupsOf = db
    .prepare(
      'SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name',
    )
    .pluck();
  const insertGrant = db.prepare(
    `INSERT OR IGNORE INTO grants (id, role_id, user_id, group_id, context, created_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const deleteGrant = db.prepare(
    `DELETE FROM grants WHERE role_id = ? AND COALESCE(user_id, '') = ? AND COALESCE(group_id, '') = ?
        AND context = ?`,
  );
  const listGrants = db.prepare(
    `SELECT r.name AS role, u.username AS username, gr.name AS grp, g.context AS context
       FROM grants g JOIN roles r ON r.id = g.role_id
       LEFT JOIN users u ON u.id = g.user_id LEFT JOIN groups gr ON gr.id = g.group_id
      ORDER BY r.name, u.username, gr.name, g.context`,
  );

  const setRole = db.transaction((name: string, claims: string[], now: number) => {
    let id = roleId.get(name) as string | undefined;
    if (id === undefined) {
      id = newId('role');
      insertRole.run(id, name, now, now);
    } else {
      touchRole.run(now, id);
    }
    clearClaims.run(id);
    for (const c of claims) addClaim.run(id, c);
  });

  const ensureGroup = (name: string, now: number): string => {
    const id = groupId.get(name) as string | undefined;
    if (id !== undefined) return id;
    const created = newId('grp');
    insertGroup.run(created, name, now);
    return created;
  };
  const addMemberTx = db.transaction((group: string, userId: string, source: string, now: number) => {
    return addMember.run(ensureGroup(group, now), userId, source, now).changes > 0;
  });

  /** Resolves a subject to its (user_id, group_id) pair; a group is created on first grant. */
  const subjectIds = (subject: GrantSubject, create: boolean, now: number): [string, string] | null => {
    if ('userId' in subject) return [subject.userId, ''];
    const id = create ? ensureGroup(subject.group, now) : (groupId.get(subject.group) as string | undefined);
    return id === undefined ? null : ['', id];
  };

  const grantTx = db.transaction((role: string, subject: GrantSubject, context: string, now: number) => {
    const rid = roleId.get(role) as string | undefined;
    if (rid === undefined) throw new Error(`no role named "${role}"`);
    const [u, g] = subjectIds(subject, true, now) as [string, string];
    return insertGrant.run(newId('grant'), rid, u || null, g || null, context, now).changes > 0;
  });

  return {
    async version() {
      return version.get() as number;
    },
    versionNow() {
      // Read only when something may have changed (change-signal.ts); otherwise the version last read.
      if (changes.mustRead() || known === null) {
        try {
          known = version.get() as number;
        } catch (err) {
          changes.wrote(); // not read: the next request must try again
          throw err;
        }
      }
      return known;
    },
    async claimGrants(userId) {
      return claimGrants.all({ userId }) as ClaimGrant[];
    },
    async setRole(name, claims) {
      setRole(name, claims, clock.now());
    },
    async listRoles() {
      return (roles.all() as { name: string; builtin: number; claims: string | null }[]).map(
        (r): Role => ({
          name: r.name,
          builtin: r.builtin === 1,
          claims: r.claims ? r.claims.split(' ').sort() : [],
        }),
      );
    },
    async roleExists(name) {
      return roleId.get(name) !== undefined;
    },
    async addMember(group, userId, source = 'local') {
      return addMemberTx(group, userId, source, clock.now());
    },
    async removeMember(group, userId) {
      const gid = groupId.get(group) as string | undefined;
      return gid !== undefined && removeMember.run(gid, userId).changes > 0;
    },
    async groupsOf(userId) {
      return groupsOf.all(userId) as string[];
    },
    async groupExists(group) {
      return groupId.get(group) !== undefined;
    },
    async syncMembers(userId, source, groups) {
      syncTx.immediate(userId, source, groups, clock.now());
    },
    async grant(role, subject, context) {
      return grantTx(role, subject, context, clock.now());
    },
    async revoke(role, subject, context) {
      const rid = roleId.get(role) as string | undefined;
      const ids = subjectIds(subject, false, clock.now());
      if (rid === undefined || ids === null) return false;
      return deleteGrant.run(rid, ids[0], ids[1], context).changes > 0;
    },
    async listGrants() {
      return (
        listGrants.all() as { role: string; username: string | null; grp: string | null; context: string }[]
      ).map((r): Grant => ({ role: r.role, username: r.username, group: r.grp, context: r.context }));
    },
  };
}
