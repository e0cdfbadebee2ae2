// `token create|list|revoke`. The plain token is printed once, alone on stdout; only its hash is kept.
import { parseDuration } from '../../config/duration.ts';
import { systemClock } from '../../ports/clock.ts';
import { ApiTokenService } from '../../services/api-tokens.ts';
import { checkClaimList, requireUser, UserInputError } from '../../services/users.ts';
import { withStore } from '../context.ts';
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
  return withStore(flags.config, async (store, _config, audit) => {
    switch (action) {
      case 'create': {
        if (!flags.user || !flags.name)
          throw new CliError('usage: hero-gateway token create --user NAME --name LABEL');
        let expiresAt: number | null = null;
        if (flags.expires !== undefined) {
          const ms = parseDuration(flags.expires);
          if (ms === null)
            throw new CliError(`--expires must be a duration like "90d" but is "${flags.expires}"`);
          expiresAt = Date.now() + ms;
        }
        let claims: string[] | null = null;
        try {
          if (flags.claims !== undefined) claims = checkClaimList(flags.claims);
          const user = await requireUser(store, flags.user);
          const issued = await new ApiTokenService(store, systemClock).issue({
            userId: user.id,
            name: flags.name,
            claims,
            expiresAt,
          });
          audit.record({
            action: 'token.create',
            target: issued.record.id,
            detail: { user: user.username, name: flags.name, claims, expires_at: expiresAt },
          });
          out(issued.token);
          note(
            `created ${issued.record.id} for ${user.username}` +
              (expiresAt ? `, expires ${formatTime(expiresAt)}` : ', never expires') +
              (claims ? `, limited to ${claims.join(',') || 'no claims'}` : '') +
              ' — store it now, it is not shown again',
          );
        } catch (err) {
          if (err instanceof UserInputError) throw new CliError(err.message);
          throw err;
        }
        return 0;
      }
      case 'list': {
        let userId: string | undefined;
        if (flags.user) {
          const user = await store.users.byUsername(flags.user);
          if (!user) throw new CliError(`no user named "${flags.user}"`);
          userId = user.id;
        }
        const users = new Map((await store.users.list()).map((u) => [u.id, u.username]));
        const now = Date.now();
        const rows = (await store.apiTokens.list(userId)).map((t) => [
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
        const id = args[0];
        if (!id) throw new CliError('usage: hero-gateway token revoke ID');
        if (!(await store.apiTokens.byId(id))) throw new CliError(`no token with id "${id}"`);
        const changed = await store.apiTokens.revoke(id, Date.now());
        if (changed) audit.record({ action: 'token.revoke', target: id });
        out(changed ? `revoked ${id}` : `${id} was already revoked`);
        return 0;
      }
      default:
        throw new CliError(`unknown token action "${action}"; use create, list or revoke`);
    }
  });
}
