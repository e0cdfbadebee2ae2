// `user add|list|passwd|disable|enable|delete`.
import type { Config } from '../../config/load.ts';
import { ensureSecret } from '../../config/secret.ts';
import { hashPassword } from '../../crypto/password.ts';
import { buildMail } from '../../mail.ts';
import type { AuditLog } from '../../ports/audit.ts';
import { systemClock } from '../../ports/clock.ts';
import { type Store, StoreConflictError, type User } from '../../ports/store.ts';
import type { EmailAccounts } from '../../services/email-accounts.ts';
import {
  checkEmail,
  checkPassword,
  checkUsername,
  createUser,
  requireUser,
  UserInputError,
} from '../../services/users.ts';
import { withStore } from '../context.ts';
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

/**
 * Queues a mail and, with an SMTP server configured, delivers the queue at once, so it also goes out when no
 * server runs. Without one the running server prints it: the CLI never shows links. True when delivered.
 */
async function withMail(
  store: Store,
  config: Config,
  queue: (accounts: EmailAccounts) => Promise<void>,
): Promise<boolean> {
  const quiet = { warn() {}, info() {} };
  const mail = buildMail({
    config: () => config,
    store,
    clock: systemClock,
    secret: ensureSecret(config).secret,
    log: quiet,
  });
  try {
    await queue(mail.accounts);
    if (!config.mail.smtp_url) return false;
    await mail.outbox.runOnce();
    return (await store.outbox.depth()) === 0;
  } finally {
    await mail.mailer.close();
  }
}

const sendInvite = (store: Store, config: Config, user: User) =>
  withMail(store, config, (accounts) => accounts.invite(user));

async function setPassword(store: Store, config: Config, user: User, password: string): Promise<void> {
  checkPassword(password, {
    minLength: config.accounts.password_min_length,
    username: user.username,
    email: user.email,
  });
  // A new password ends every session, in the same transaction: whoever signed in with the old one is out.
  const now = Date.now();
  await store.users.setPasswordHash(user.id, await hashPassword(password), { endSessions: { now } });
}

export async function userCommand(
  action: string | undefined,
  args: string[],
  flags: UserFlags,
): Promise<number> {
  checkPasswordSource(action, flags);
  return withStore(flags.config, async (store, config, audit) => {
    try {
      return await run(store, config, audit, action, args, flags);
    } catch (err) {
      if (err instanceof UserInputError) throw new CliError(err.message);
      throw err;
    }
  });
}

async function run(
  store: Store,
  config: Config,
  audit: AuditLog,
  action: string | undefined,
  args: string[],
  flags: UserFlags,
) {
  const name = args[0];
  if (action === 'list') {
    const users = await store.users.list();
    out(
      table(
        ['username', 'email', 'verified', 'status', 'created'],
        users.map((u) => [
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
      // Everything that can refuse is checked before asking, so nobody types a password for nothing.
      const email = checkEmail(flags.email);
      checkUsername(name);
      if (await store.users.byUsername(name)) throw new CliError(`username ${name} is already taken`);
      if (await store.users.byEmail(email)) throw new CliError(`email ${email} is already used`);
      const policy = { minLength: config.accounts.password_min_length, username: name, email };
      // Read (and check) the password before writing anything, so a bad one leaves no half-made user.
      const password = flags['password-stdin']
        ? await readStdin()
        : flags['no-password'] || flags.invite
          ? null
          : await askNewPassword(policy);
      if (password !== null) checkPassword(password, policy);
      const hash = password !== null ? await hashPassword(password) : null;
      const user = await createUser(store, {
        username: name,
        email: flags.email,
        // An operator vouches for the address; an invited user confirms it by following the mailed link.
        emailVerified: !flags.invite,
        admin: flags.admin === true,
        ...(hash ? { passwordHash: hash } : {}),
      });
      if (flags.invite) {
        const sent = await sendInvite(store, config, user);
        audit.record({
          action: 'invite.send',
          target: user.username,
          detail: { admin: flags.admin === true },
        });
        out(`invited ${user.username} <${user.email}>${flags.admin ? ' with role admin' : ''}`);
        note(
          sent
            ? 'the set-password link was mailed (valid 7 days)'
            : config.mail.smtp_url
              ? 'the mail is queued: the running server sends it as soon as the mail server answers'
              : 'no mail.smtp_url: the running server prints the mail to its console',
        );
        return 0;
      }
      audit.record({ action: 'user.create', target: user.username, detail: { admin: flags.admin === true } });
      out(`created user ${user.username} <${user.email}>${flags.admin ? ' with role admin' : ''}`);
      if (password === null)
        note('no password: they sign in with a provider or a sign-in link, or set one with "user passwd"');
      return 0;
    }
    case 'passwd': {
      const user = await requireUser(store, name);
      const ended = (await store.sessions.listActive(user.id, Date.now())).length;
      const password = flags['password-stdin']
        ? await readStdin()
        : await askNewPassword({
            minLength: config.accounts.password_min_length,
            username: user.username,
            email: user.email,
          });
      await setPassword(store, config, user, password);
      audit.record({ action: 'user.password', target: user.username, detail: { sessions_ended: ended } });
      out(`password changed for ${user.username}${ended ? `; ended ${ended} session(s)` : ''}`);
      return 0;
    }
    case 'disable':
    case 'enable': {
      const user = await requireUser(store, name);
      await store.users.setDisabled(user.id, action === 'disable' ? Date.now() : null);
      audit.record({ action: action === 'disable' ? 'user.disable' : 'user.enable', target: user.username });
      out(`${action}d ${user.username}`);
      return 0;
    }
    case 'delete': {
      const user = await requireUser(store, name);
      await store.users.delete(user.id);
      audit.record({ action: 'user.delete', target: user.username });
      note(`deleted ${user.username} and everything they owned (tokens, sessions, grants)`);
      return 0;
    }
    case 'email': {
      const user = await requireUser(store, name);
      const email = checkEmail(args[1] ?? '');
      try {
        await store.users.setEmail(user.id, email);
      } catch (err) {
        if (err instanceof StoreConflictError) throw new CliError(`email ${email} is already used`);
        throw err;
      }
      audit.record({ action: 'user.email', target: user.username });
      out(`${user.username} now has the address ${email}`);
      return 0;
    }
    case 'reset': {
      const user = await requireUser(store, name);
      const sent = await withMail(store, config, (accounts) => accounts.forgot(user.username));
      out(`reset link for ${user.username}: ${sent ? 'mailed' : 'queued'}`);
      return 0;
    }
    default:
      throw new CliError(
        `unknown user action "${action}"; use add, list, passwd, email, reset, disable, enable or delete`,
      );
  }
}
