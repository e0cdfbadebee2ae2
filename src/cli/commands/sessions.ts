// `session list USER`, `session end ID`, `session end --user USER`: see and end sign-in sessions.
import { withAccounts } from '../context.ts';
import { CliError, formatTime, note, out, table } from '../io.ts';

export async function sessionCommand(
  action: string | undefined,
  args: string[],
  flags: { config?: string; user?: string },
): Promise<number> {
  if (action === 'list' && !args[0] && !flags.user)
    throw new CliError('session list needs USER (usage: hero-gateway session list USER)');
  if (action === 'end' && !args[0] === !flags.user)
    throw new CliError(
      `session end takes ${args[0] ? 'either' : 'an'} ID or --user NAME${args[0] ? ', not both' : ''} (usage: hero-gateway session end ID | --user NAME)`,
    );
  return withAccounts(flags.config, async ({ accounts, actor }) => {
    if (action === 'list') {
      const user = await accounts.users.require(args[0] ?? flags.user ?? '');
      const rows = (await accounts.sessions.list(user.id)).map((s) => [
        s.id,
        s.authMethod,
        formatTime(s.createdAt),
        formatTime(s.lastSeenAt),
        s.ip ?? '',
        (s.userAgent ?? '').slice(0, 40),
      ]);
      out(table(['id', 'method', 'signed in', 'last seen', 'address', 'browser'], rows));
      return 0;
    }
    if (action === 'end' && flags.user) {
      const user = await accounts.users.require(flags.user);
      const ended = await accounts.sessions.endAll(actor, user);
      out(`ended ${ended} session(s) of ${user.username}`);
      return 0;
    }
    if (action === 'end' && args[0]) {
      await accounts.sessions.endOne(actor, args[0]);
      out(`ended ${args[0]}`);
      note('it is refused from the next request on, also by a running server');
      return 0;
    }
    throw new CliError('usage: hero-gateway session list USER | end ID | end --user USER');
  });
}
