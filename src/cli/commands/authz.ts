// `role set|list`, `group add|remove|list`, `grant`, `revoke`: who holds which claims, and where, through the
// use cases in services/accounts/authz.ts with the operator at this terminal as the actor.
import { AccountError } from '../../services/accounts/actor.ts';
import { checkRoleName } from '../../services/accounts/authz.ts';
import { checkClaimList } from '../../services/users.ts';
import { withAccounts } from '../context.ts';
import { CliError, out, table } from '../io.ts';

export async function roleCommand(
  action: string | undefined,
  args: string[],
  flags: { config?: string; claims?: string },
) {
  if (action === 'list')
    return withAccounts(flags.config, async ({ accounts }) => {
      const roles = await accounts.authz.listRoles();
      out(
        table(
          ['role', 'claims', 'built in'],
          roles.map((r) => [r.name, r.claims.join(',') || '-', r.builtin ? 'yes' : '']),
        ),
      );
      const grants = await accounts.authz.listGrants();
      out();
      out(
        table(
          ['role', 'granted to', 'context'],
          grants.map((g) => [g.role, g.username ?? `@${g.group}`, g.context || '(everywhere)']),
        ),
      );
      return 0;
    });
  const role = args[0];
  if (action !== 'set' || !role || flags.claims === undefined)
    throw new CliError('usage: hero-gateway role set ROLE --claims a,b | role list');
  // Refused before the store is opened (created, migrated) for a command that cannot succeed.
  try {
    checkRoleName(role);
    checkClaimList(flags.claims);
  } catch (err) {
    if (err instanceof AccountError) throw new CliError(err.message);
    throw err;
  }
  return withAccounts(flags.config, async ({ accounts, actor }) => {
    const claims = await accounts.authz.setRole(actor, role, (flags.claims ?? '').split(','));
    out(`role ${role}: ${claims.join(', ') || '(no claims)'}`);
    return 0;
  });
}

export async function groupCommand(action: string | undefined, args: string[], flags: { config?: string }) {
  const [group, username] = args;
  if (action === 'list')
    return withAccounts(flags.config, async ({ accounts }) => {
      const rows = (await accounts.authz.groups()).flatMap((g) => g.members.map((m) => [g.name, m]));
      out(table(['group', 'member'], rows));
      return 0;
    });
  if ((action !== 'add' && action !== 'remove') || !group || !username)
    throw new CliError('usage: hero-gateway group add|remove GROUP USER | group list');
  return withAccounts(flags.config, async ({ accounts, actor }) => {
    const user = await accounts.users.require(username);
    const changed = await accounts.authz.setMember(actor, group, user, action === 'remove');
    if (action === 'add')
      out(changed ? `added ${user.username} to ${group}` : `${user.username} is already in ${group}`);
    else out(changed ? `removed ${user.username} from ${group}` : `${user.username} was not in ${group}`);
    return 0;
  });
}

export async function grantCommand(
  verb: 'grant' | 'revoke',
  args: string[],
  flags: { config?: string; context?: string },
): Promise<number> {
  const [who, role] = args;
  if (!who || !role) throw new CliError(`usage: hero-gateway ${verb} USER|@GROUP ROLE [--context C]`);
  const context = flags.context ?? '';
  const to = who.startsWith('@') ? { group: who.slice(1) } : { user: who };
  return withAccounts(flags.config, async ({ accounts, actor }) => {
    const { changed } = await accounts.authz.grant(actor, role, to, context, verb === 'revoke');
    const label = 'group' in to ? `group ${to.group}` : who;
    const where = context ? ` in context ${context}` : ' everywhere';
    if (verb === 'grant')
      out(changed ? `granted ${role} to ${label}${where}` : `${label} already has ${role}${where}`);
    else out(changed ? `revoked ${role} from ${label}${where}` : `${label} did not have ${role}${where}`);
    return 0;
  });
}
