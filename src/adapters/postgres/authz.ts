// Groups, memberships, roles, role claims and grants in PostgreSQL.
import type pg from 'pg';
import { newId } from '../../crypto/tokens.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AuthzStore, ClaimGrant, Grant, GrantSubject, Role } from '../../ports/store.ts';
import { inTransaction, type Queryable } from './tx.ts';

// Claims from roles granted to the user directly or to any group the user belongs to.
const CLAIM_GRANTS = `SELECT DISTINCT g.context AS context, rc.claim AS claim
   FROM grants g JOIN role_claims rc ON rc.role_id = g.role_id
  WHERE g.user_id = $1
     OR g.group_id IN (SELECT group_id FROM group_members WHERE user_id = $1)`;
// Names sort by code point (COLLATE "C"), and absent users or groups first, as SQLite orders them.
const ROLES = `SELECT r.name, r.builtin, array_agg(rc.claim) FILTER (WHERE rc.claim IS NOT NULL) AS claims
   FROM roles r LEFT JOIN role_claims rc ON rc.role_id = r.id GROUP BY r.id ORDER BY r.name COLLATE "C"`;
const GROUPS_OF = `SELECT g.name FROM group_members m JOIN groups g ON g.id = m.group_id
  WHERE m.user_id = $1 ORDER BY g.name COLLATE "C"`;
const LIST_GRANTS = `SELECT r.name AS role, u.username AS username, gr.name AS grp, g.context AS context
   FROM grants g JOIN roles r ON r.id = g.role_id
   LEFT JOIN users u ON u.id = g.user_id LEFT JOIN groups gr ON gr.id = g.group_id
  ORDER BY r.name COLLATE "C", u.username COLLATE "C" NULLS FIRST, gr.name COLLATE "C" NULLS FIRST,
        g.context COLLATE "C"`;
// Conflicts on grants_unique (role, user or '', group or '', context): the grant already exists.
const INSERT_GRANT = `INSERT INTO grants (id, role_id, user_id, group_id, context, created_at)
  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`;
const DELETE_GRANT = `DELETE FROM grants WHERE role_id = $1 AND COALESCE(user_id, '') = $2
    AND COALESCE(group_id, '') = $3 AND context = $4`;
const ADD_MEMBER = `INSERT INTO group_members (group_id, user_id, source, created_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT DO NOTHING`;

async function one<T>(q: Queryable, sql: string, params: unknown[]): Promise<T | undefined> {
  const { rows } = await q.query(sql, params);
  return rows[0] as T | undefined;
}

const roleId = async (q: Queryable, name: string): Promise<string | undefined> =>
  (await one<{ id: string }>(q, 'SELECT id FROM roles WHERE name = $1', [name]))?.id;

const groupId = async (q: Queryable, name: string): Promise<string | undefined> =>
  (await one<{ id: string }>(q, 'SELECT id FROM groups WHERE name = $1', [name]))?.id;

/** The group's id, creating it on first use. */
async function ensureGroup(q: Queryable, name: string, now: number): Promise<string> {
  const id = await groupId(q, name);
  if (id !== undefined) return id;
  // Another instance may create it meanwhile: insert unless present, then read back whichever row won.
  const created = await one<{ id: string }>(
    q,
    'INSERT INTO groups (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING id',
    [newId('grp'), name, now],
  );
  return created?.id ?? ((await groupId(q, name)) as string);
}

/** Resolves a subject to its (user_id, group_id) pair; a group is created on first grant. */
async function subjectIds(
  q: Queryable,
  subject: GrantSubject,
  create: boolean,
  now: number,
): Promise<[string, string] | null> {
  if ('userId' in subject) return [subject.userId, ''];
  const id = create ? await ensureGroup(q, subject.group, now) : await groupId(q, subject.group);
  return id === undefined ? null : ['', id];
}

export function pgAuthz(pool: pg.Pool, clock: Clock): AuthzStore {
  return {
    async version() {
      const row = await one<{ value: number }>(
        pool,
        "SELECT value FROM meta WHERE key = 'authz_version'",
        [],
      );
      return row?.value as number;
    },
    async claimGrants(userId) {
      return (await pool.query<ClaimGrant>(CLAIM_GRANTS, [userId])).rows;
    },
    async setRole(name, claims) {
      const now = clock.now();
      await inTransaction(pool, async (c) => {
        // The upsert locks the role row: concurrent setRole calls on one role replace its claims one after another.
        const { id } = (await one<{ id: string }>(
          c,
          `INSERT INTO roles (id, name, builtin, created_at, updated_at) VALUES ($1, $2, false, $3, $3)
           ON CONFLICT (name) DO UPDATE SET updated_at = EXCLUDED.updated_at RETURNING id`,
          [newId('role'), name, now],
        )) as { id: string };
        await c.query('DELETE FROM role_claims WHERE role_id = $1', [id]);
        await c.query(
          'INSERT INTO role_claims (role_id, claim) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
          [id, claims],
        );
      });
    },
    async listRoles() {
      const { rows } = await pool.query<{ name: string; builtin: boolean; claims: string[] | null }>(ROLES);
      return rows.map(
        (r): Role => ({ name: r.name, builtin: r.builtin, claims: r.claims ? [...r.claims].sort() : [] }),
      );
    },
    async roleExists(name) {
      return (await roleId(pool, name)) !== undefined;
    },
    async addMember(group, userId, source = 'local') {
      const now = clock.now();
      return inTransaction(pool, async (c) => {
        const gid = await ensureGroup(c, group, now);
        return ((await c.query(ADD_MEMBER, [gid, userId, source, now])).rowCount ?? 0) > 0;
      });
    },
    async removeMember(group, userId) {
      const { rowCount } = await pool.query(
        'DELETE FROM group_members WHERE group_id = (SELECT id FROM groups WHERE name = $1) AND user_id = $2',
        [group, userId],
      );
      return (rowCount ?? 0) > 0;
    },
    async groupsOf(userId) {
      return (await pool.query<{ name: string }>(GROUPS_OF, [userId])).rows.map((r) => r.name);
    },
    async groupExists(group) {
      return (await groupId(pool, group)) !== undefined;
    },
    async syncMembers(userId, source, groups) {
      const now = clock.now();
      // Sorted: two transactions creating the same new groups take their locks in one order (no deadlock).
      const wanted = [...new Set(groups)].sort();
      await inTransaction(pool, async (c) => {
        // Two sign-ins of one user syncing at once would each keep what the other added: take turns per user.
        await c.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId]);
        await c.query(
          `DELETE FROM group_members m USING groups g
            WHERE g.id = m.group_id AND m.user_id = $1 AND m.source = $2 AND NOT (g.name = ANY($3::text[]))`,
          [userId, source, wanted],
        );
        for (const name of wanted)
          await c.query(ADD_MEMBER, [await ensureGroup(c, name, now), userId, source, now]);
      });
    },
    async grant(role, subject, context) {
      const now = clock.now();
      return inTransaction(pool, async (c) => {
        const rid = await roleId(c, role);
        if (rid === undefined) throw new Error(`no role named "${role}"`);
        const [u, g] = (await subjectIds(c, subject, true, now)) as [string, string];
        const { rowCount } = await c.query(INSERT_GRANT, [
          newId('grant'),
          rid,
          u || null,
          g || null,
          context,
          now,
        ]);
        return (rowCount ?? 0) > 0;
      });
    },
    async revoke(role, subject, context) {
      const rid = await roleId(pool, role);
      const ids = await subjectIds(pool, subject, false, clock.now());
      if (rid === undefined || ids === null) return false;
      return ((await pool.query(DELETE_GRANT, [rid, ids[0], ids[1], context])).rowCount ?? 0) > 0;
    },
    async listGrants() {
      const { rows } = await pool.query<{
        role: string;
        username: string | null;
        grp: string | null;
        context: string;
      }>(LIST_GRANTS);
      return rows.map(
        (r): Grant => ({ role: r.role, username: r.username, group: r.grp, context: r.context }),
      );
    },
  };
}
