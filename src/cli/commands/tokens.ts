// `token create|list|revoke`. The plain token is printed once, alone on stdout; only its hash is kept.
import { parseDuration } from '../../config/duration.ts';
import { withAccounts } from '../context.ts';
import { CliError, formatTime, note, out, table } from '../io.ts';

export interface TokenFlags {
  config?: string;
  user?: string;
  name?: string;
  expires?: string;
  claims?: string;
}

export async function tokenCommand(
  action: string | undefined,
  args: string[],
  flags: TokenFlags,
): Promise<number> {
  if (action === 'create' && (!flags.user || !flags.name))
    throw new CliError('usage: hero-gateway token create --user NAME --name LABEL');
  let lifetimeMs: number | null = null;
  if (action === 'create' && flags.expires !== undefined) {
    lifetimeMs = parseDuration(flags.expires);
    if (lifetimeMs === null)
      throw new CliError(`--expires must be a duration like "90d" but is "${flags.expires}"`);
  }
  if (action === 'revoke' && !args[0]) throw new CliError('usage: hero-gateway token revoke ID');
  return withAccounts(flags.config, async ({ accounts, actor }) => {
    switch (action) {
      case 'create': {
        const user = await accounts.users.require(flags.user ?? '');
        const { token, record } = await accounts.tokens.issue(actor, user, {
          name: flags.name ?? '',
          claims: flags.claims === undefined ? null : flags.claims.split(','),
          lifetimeMs,
        });
        out(token);
        note(
          `created ${record.id} for ${user.username}` +
            (record.expiresAt ? `, expires ${formatTime(record.expiresAt)}` : ', never expires') +
            (record.claims ? `, limited to ${record.claims.join(',') || 'no claims'}` : '') +
            ' — store it now, it is not shown again',
        );
        return 0;
      }
      case 'list': {
        const owner = flags.user ? await accounts.users.require(flags.user) : null;
        const users = new Map((await accounts.users.list()).map((u) => [u.id, u.username]));
        const now = Date.now();
        const rows = (await accounts.tokens.list(owner?.id)).map((t) => [
          t.id,
          users.get(t.userId) ?? '?',
          t.name,
          t.claims ? t.claims.join(',') || '(none)' : 'all',
          t.revokedAt ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active',
          formatTime(t.expiresAt),
          formatTime(t.lastUsedAt),
        ]);
        out(table(['id', 'user', 'name', 'claims', 'status', 'expires', 'last used'], rows));
        return 0;
      }
      case 'revoke': {
        const id = args[0] ?? '';
        const changed = await accounts.tokens.revoke(actor, id);
        out(changed ? `revoked ${id}` : `${id} was already revoked`);
        return 0;
      }
      default:
        throw new CliError(`unknown token action "${action}"; use create, list or revoke`);
    }
  });
}
