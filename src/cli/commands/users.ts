// `user add|list|passwd|email|reset|disable|enable|delete`: the account use cases (services/accounts/users.ts)
// with the operator at this terminal as the actor.
import { type CliContext, withAccounts } from '../context.ts';
import { CliError, formatTime, note, out, readStdin, table } from '../io.ts';
import { askNewPassword, canPrompt } from '../new-password.ts';

export interface UserFlags {
  config?: string;
  email?: string;
  admin?: boolean;
  'password-stdin'?: boolean;
  'no-password'?: boolean;
  invite?: boolean;
}

/** Refuses, before anything is opened, a command that would need to ask for a password with nobody to ask. */
function checkPasswordSource(action: string | undefined, flags: UserFlags): void {
  if (canPrompt() || flags['password-stdin']) return;
  // Without a terminal, `user add` used to create an account without a password silently; that is now a
  // deliberate choice (--no-password), so a script that forgot --password-stdin does not leave one behind.
  if (action === 'add' && !flags.invite && !flags['no-password'])
    throw new CliError(
      'no password given and no terminal to ask for one: use --password-stdin, --no-password or --invite',
    );
  if (action === 'passwd')
    throw new CliError('no terminal to ask for the new password: use --password-stdin');
}

export async function userCommand(
  action: string | undefined,
  args: string[],
  flags: UserFlags,
): Promise<number> {
  checkPasswordSource(action, flags);
  return withAccounts(flags.config, (ctx) => run(ctx, action, args, flags));
}

async function run(ctx: CliContext, action: string | undefined, args: string[], flags: UserFlags) {
  const { accounts, actor, config } = ctx;
  const { users } = accounts;
  const name = args[0];
  if (action === 'list') {
    out(
      table(
        ['username', 'email', 'verified', 'status', 'created'],
        (await users.list()).map((u) => [
          u.username,
          u.email,
          u.emailVerifiedAt ? 'yes' : 'no',
          u.disabledAt ? 'disabled' : 'active',
          formatTime(u.createdAt),
        ]),
      ),
    );
    return 0;
  }
  if (!name)
    throw new CliError(
      `usage: hero-gateway user ${action ?? '<add|list|passwd|disable|enable|delete>'} NAME`,
    );
  switch (action) {
    case 'add': {
      if (!flags.email) throw new CliError('user add needs --email');
      const chosen = (['password-stdin', 'no-password', 'invite'] as const).filter((f) => flags[f]);
      if (chosen.length > 1) throw new CliError(`use only one of ${chosen.map((f) => `--${f}`).join(', ')}`);
      const admin = flags.admin === true;
      // Everything that can refuse is checked before asking, so nobody types a password for nothing.
      const email = await users.checkNew(actor, { username: name, email: flags.email, admin });
      const policy = { minLength: config.accounts.password_min_length, username: name, email };
      const password = flags['password-stdin']
        ? await readStdin()
        : flags['no-password'] || flags.invite
          ? null
          : await askNewPassword(policy);
      const invite = flags.invite === true;
      const user = await users.create(actor, { username: name, email, admin, password, invite });
      const withRole = admin ? ' with role admin' : '';
      if (invite) {
        const sent = await ctx.deliverMail();
        out(`invited ${user.username} <${user.email}>${withRole}`);
        note(
          sent
            ? 'the set-password link was mailed (valid 7 days)'
            : config.mail.smtp_url
              ? 'the mail is queued: the running server sends it as soon as the mail server answers'
              : 'no mail.smtp_url: the running server prints the mail to its console',
        );
        return 0;
      }
      out(`created user ${user.username} <${user.email}>${withRole}`);
      if (password === null)
        note('no password: they sign in with a provider or a sign-in link, or set one with "user passwd"');
      return 0;
    }
    case 'passwd': {
      const user = await users.require(name);
      const password = flags['password-stdin']
        ? await readStdin()
        : await askNewPassword({
            minLength: config.accounts.password_min_length,
            username: user.username,
            email: user.email,
          });
      const { sessionsEnded } = await users.setPassword(actor, user, password);
      out(
        `password changed for ${user.username}${sessionsEnded ? `; ended ${sessionsEnded} session(s)` : ''}`,
      );
      return 0;
    }
    case 'disable':
    case 'enable': {
      await users.setDisabled(actor, await users.require(name), action === 'disable');
      out(`${action}d ${name}`);
      return 0;
    }
    case 'delete': {
      await users.delete(actor, await users.require(name));
      note(`deleted ${name} and everything they owned (tokens, sessions, grants)`);
      return 0;
    }
    case 'email': {
      const user = await users.setEmail(actor, await users.require(name), args[1] ?? '');
      out(`${user.username} now has the address ${user.email}`);
      return 0;
    }
    case 'mfa': {
      // `user mfa list|reset NAME`: the sub-action comes first, the name second.
      const [what, who] = args;
      if ((what !== 'list' && what !== 'reset') || !who)
        throw new CliError('usage: hero-gateway user mfa list|reset NAME');
      const user = await users.require(who);
      if (what === 'reset') {
        const removed = await accounts.secondFactors.reset(actor, user);
        out(`removed ${removed} second factor(s) and the recovery codes of ${user.username}`);
        note('they sign in with their password alone until they add a factor again');
        return 0;
      }
      const { factors, recoveryCodesLeft } = await accounts.secondFactors.list(user);
      out(
        table(
          ['name', 'kind', 'status', 'created', 'last used'],
          factors.map((f) => [
            f.name,
            f.kind === 'totp' ? 'authenticator app' : 'passkey',
            f.confirmedAt === null ? 'not confirmed' : 'active',
            formatTime(f.createdAt),
            f.lastUsedAt === null ? 'never' : formatTime(f.lastUsedAt),
          ]),
        ),
      );
      note(`${recoveryCodesLeft} recovery code(s) left`);
      return 0;
    }
    case 'reset': {
      await users.sendPasswordReset(actor, await users.require(name));
      out(`reset link for ${name}: ${(await ctx.deliverMail()) ? 'mailed' : 'queued'}`);
      return 0;
    }
    default:
      throw new CliError(
        `unknown user action "${action}"; use add, list, passwd, email, reset, mfa, disable, enable or delete`,
      );
  }
}
