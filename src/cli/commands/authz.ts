// `role set`, `group add|remove`, `grant`, `revoke`: who holds which claims, and where.
import { LABEL, NAME } from '../../core/names.ts';
import type { GrantSubject, Store } from '../../ports/store.ts';
import { checkClaimList, requireUser, UserInputError } from '../../services/users.ts';
import { withStore } from '../context.ts';
import { CliError, out, table } from '../io.ts';

function checkGroup(name: string): string {
  if (!LABEL.test(name)) throw new CliError(`group "${name}" must be letters, digits, ".", "_", ":" or "-"`);
  return name;
}

async function subjectOf(store: Store, who: string): Promise<{ subject: GrantSubject; label: string }> {
  if (who.startsWith('@'))
    return { subject: { group: checkGroup(who.slice(1)) }, label: `group ${who.slice(1)}` };
  const user = await requireUser(store, who);
  return { subject: { userId: user.id }, label: user.username };
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UserInputError) throw new CliError(err.message);
    throw err;
  }
}

export async function roleCommand(
  action: string | undefined,
  args: string[],
  flags: { config?: string; claims?: string },
) {
  if (action === 'list')
    return withStore(flags.config, async (store) => {
      const roles = await store.authz.listRoles();
      out(
        table(
          ['role', 'claims', 'built in'],
          roles.map((r) => [r.name, r.claims.join(',') || '-', r.builtin ? 'yes' : '']),
        ),
      );
      const grants = await store.authz.listGrants();
      out();
      out(
        table(
          ['role', 'granted to', 'context'],
          grants.map((g) => [g.role, g.username ?? `@${g.group}`, g.context || '(everywhere)']),
        ),
      );
      return 0;
    });
  if (action !== 'set' || !args[0] || flags.claims === undefined)
    throw new CliError('usage: hero-gateway role set ROLE --claims a,b | role list');
  const role = args[0];
  if (!NAME.test(role))
    throw new CliError(`role "${role}" must be lower-case letters, digits, ".", "_" or "-"`);
  // The built-in admin role is what lets operators back in; replacing its claims could lock everyone out.
  if (role === 'admin')
    throw new CliError('the built-in role "admin" cannot be changed; create another role');
  return withStore(flags.config, (store, _config, audit) =>
    guarded(async () => {
      const claims = checkClaimList(flags.claims ?? '');
      await store.authz.setRole(role, claims);
      audit.record({ action: 'role.set', target: role, detail: { claims } });
      out(`role ${role}: ${claims.join(', ') || '(no claims)'}`);
      return 0;
    }),
  );
}

export async function groupCommand(action: string | undefined, args: string[], flags: { config?: string }) {
  const [group, username] = args;
  if (action === 'list')
    return withStore(flags.config, async (store) => {
      const users = await store.users.list();
      const rows: string[][] = [];
      for (const u of users) for (const g of await store.authz.groupsOf(u.id)) rows.push([g, u.username]);
      out(
        table(
          ['group', 'member'],
          rows.sort((a, b) => (a[0] as string).localeCompare(b[0] as string)),
        ),
      );
      return 0;
    });
  if ((action !== 'add' && action !== 'remove') || !group || !username)
    throw new CliError('usage: hero-gateway group add|remove GROUP USER | group list');
  return withStore(flags.config, (store, _config, audit) =>
    guarded(async () => {
      const user = await requireUser(store, username);
      if (action === 'add') {
        const added = await store.authz.addMember(checkGroup(group), user.id);
        if (added) audit.record({ action: 'group.add', target: group, detail: { user: user.username } });
        out(added ? `added ${user.username} to ${group}` : `${user.username} is already in ${group}`);
      } else {
        const removed = await store.authz.removeMember(group, user.id);
        if (removed) audit.record({ action: 'group.remove', target: group, detail: { user: user.username } });
        out(removed ? `removed ${user.username} from ${group}` : `${user.username} was not in ${group}`);
      }
      return 0;
    }),
  );
}

export async function grantCommand(
  verb: 'grant' | 'revoke',
  args: string[],
  flags: { config?: string; context?: string },
): Promise<number> {
  const [who, role] = args;
  if (!who || !role) throw new CliError(`usage: hero-gateway ${verb} USER|@GROUP ROLE [--context C]`);
  const context = flags.context ?? '';
  return withStore(flags.config, (store, _config, audit) =>
    guarded(async () => {
      if (!(await store.authz.roleExists(role))) throw new CliError(`no role named "${role}"`);
      const { subject, label } = await subjectOf(store, who);
      const where = context ? ` in context ${context}` : ' everywhere';
      if (verb === 'grant') {
        const created = await store.authz.grant(role, subject, context);
        if (created) audit.record({ action: 'grant.add', target: label, detail: { role, context } });
        out(created ? `granted ${role} to ${label}${where}` : `${label} already has ${role}${where}`);
      } else {
        const removed = await store.authz.revoke(role, subject, context);
        if (removed) audit.record({ action: 'grant.remove', target: label, detail: { role, context } });
        out(removed ? `revoked ${role} from ${label}${where}` : `${label} did not have ${role}${where}`);
      }
      return 0;
    }),
  );
}
