// GET/POST /auth/verify: confirming an address by its mailed link. The browser that chose (or proved) the
// account's password confirms with one button; any other browser types the password, or takes the account
// over as the address's owner and chooses a new password. GET only shows a page: mail scanners prefetch links.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../core/html.ts';
import type { User } from '../../core/records.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { judgeOwnership } from '../../services/address-ownership.ts';
import { MAX_PASSWORD_LENGTH } from '../../services/password-policy.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendFailure, sendForm, sendPage } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { confirmLink } from '../views/mail-pages.ts';
import { ownershipChoice } from '../views/ownership-pages.ts';
import type { PagesDeps } from './deps.ts';
import { newPasswordStep } from './new-password.ts';
import { browserKnowsPassword } from './password-proof.ts';
import { type SignInDeps, signIn } from './sign-in.ts';
import { auditTakeover, type TakeoverAuditDeps } from './takeover-audit.ts';

/** What this module uses of the pages' dependencies. */
export type VerifyAddressPageDeps = Pick<
  PagesDeps,
  'audit' | 'clock' | 'csrfKey' | 'emailFlows' | 'login' | 'proofKey'
> &
  SignInDeps &
  TakeoverAuditDeps;

const HEADING = 'Confirm your email address';

export function verifyAddressPages(app: FastifyInstance, deps: VerifyAddressPageDeps, prefix: string): void {
  const action = `${prefix}/verify`;
  const gone = (request: FastifyRequest, reply: FastifyReply) =>
    sendFailure(request, reply, 'link_invalid', {
      heading: 'Link not valid',
      text: 'This link was already used, has expired, or was replaced by a newer one. Ask for a new one.',
      link: { href: `${prefix}/login`, label: 'Back to sign-in' },
    });

  /** The two choices for a browser without the password; with an error when a choice was refused. */
  const choice = (
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    owner: User,
    failure: { code: ErrorCode; text: string } | null,
  ) => {
    return sendForm(request, reply, HEADING, failure, () =>
      ownershipChoice({
        action,
        csrf: csrfToken(request, reply, deps.csrfKey),
        token,
        username: owner.username,
        invalid: failure !== null,
      }),
    );
  };

  app.get(action, async (request, reply) => {
    const token = (request.query as Record<string, unknown>).token;
    const owner = await deps.emailFlows.verifyLinkOwner(token);
    if (!owner || typeof token !== 'string') return gone(request, reply);
    // The same rule the POST applies, without a password or a choice: does this browser need to bring one?
    const judged = await judgeOwnership(owner, {
      browserKnowsPassword: browserKnowsPassword(request, deps.proofKey, deps.clock.now()),
      checkPassword: null,
      takeOver: false,
    });
    if (judged.kind === 'ask') return choice(request, reply, token, owner, null);
    // The page names nobody here: the link alone is the proof, and this browser chose the password.
    return sendPage(
      request,
      reply,
      200,
      { heading: HEADING },
      confirmLink({
        action,
        csrf: csrfToken(request, reply, deps.csrfKey),
        token,
        text: html`Confirm that this address belongs to your account, and sign in.`,
        button: 'Confirm and sign in',
      }),
    );
  });

  app.post(action, async (request, reply) => {
    const s = request.hero;
    const token = formField(request.body, 'token') ?? '';
    const takeOver = formField(request.body, 'intent') === 'takeover';
    const password = takeOver ? '' : (formField(request.body, 'password') ?? '');
    // Refused before any hashing: argon2 over megabytes of input is a cheap way to burn our CPU.
    if ([...password].length > MAX_PASSWORD_LENGTH) {
      const owner = await deps.emailFlows.verifyLinkOwner(token);
      if (!owner) return gone(request, reply);
      return choice(request, reply, token, owner, {
        code: 'password_too_long',
        text: ERRORS.password_too_long.detail,
      });
    }
    const outcome = await deps.emailFlows.confirmAddress(token, {
      browserKnowsPassword: browserKnowsPassword(request, deps.proofKey, deps.clock.now()),
      // Counted like a sign-in by a stranger (network, account, and the account from anywhere): the
      // confirmation link must not become a way around the sign-in limits.
      checkPassword: password === '' ? null : (user) => deps.login.confirm(user, password, s.clientIp, false),
      takeOver,
    });
    switch (outcome.kind) {
      case 'gone':
        return gone(request, reply);
      case 'throttled': {
        const seconds = Math.ceil(outcome.retryAfterMs / 1000);
        deps.audit.record({
          action: 'login.throttled',
          ip: s.clientIp,
          detail: { method: 'verify_password' },
        });
        reply.header('retry-after', String(seconds));
        return sendFailure(request, reply, 'too_many_requests', {
          text: `Too many attempts. Open the link from your mail again in ${seconds} seconds.`,
        });
      }
      case 'ask':
        return choice(request, reply, token, outcome.user, {
          code: 'invalid_input',
          text: 'Enter the account’s password, or choose “I did not set a password here”.',
        });
      case 'wrong_password':
        deps.audit.record({
          action: 'login.failure',
          target: outcome.user.username,
          ip: s.clientIp,
          detail: { method: 'verify_password' },
        });
        return choice(request, reply, token, outcome.user, {
          code: 'invalid_credentials',
          text: 'That is not this account’s password. Try again, or choose “I did not set a password here”.',
        });
      case 'ok':
        break;
    }
    const { user, reset, returnTo } = outcome;
    deps.audit.record({
      action: 'email.verify',
      actor: user.username,
      ip: s.clientIp,
      detail: { password_kept: reset === null, because: outcome.kept ?? 'takeover' },
    });
    if (reset) auditTakeover(request, deps, user, reset, 'verify');
    // Taken over: the account has no password now; offer to choose one before going on.
    const after = reset ? newPasswordStep(prefix, returnTo) : returnTarget(s, returnTo || null);
    const next = await signIn(request, reply, deps, user, 'magic_link', after);
    return reply.code(303).header('location', next).send();
  });
}
