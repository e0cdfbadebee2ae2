// Setting up a factor through the pages: an authenticator app (QR code, key, first code) or a passkey, at two
// places that differ only in who is acting and what follows — the sign-in of someone who must have a factor
// (`/auth/mfa/…`, then signed in) and the account's sign-in security page (`/auth/account/security/…`).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../core/records.ts';
import type { Added } from '../../services/second-factor/own-factors.ts';
import { csrfToken } from '../auth/csrf.ts';
import { formField, sendPage } from '../auth/respond.ts';
import { recoveryCodesShown, totpEnrolment } from '../views/second-factor-pages.ts';
import type { PagesDeps } from './deps.ts';

export type EnrolmentDeps = Pick<PagesDeps, 'ownFactors' | 'totp' | 'csrfKey' | 'secondFactorMetrics'>;

export interface EnrolmentPlace {
  /** Where the forms post: `${base}/totp`, `${base}/totp/confirm`, `${base}/passkey`. */
  base: string;
  /**
   * Who may add a factor here, and the session to keep signed in (every other one of the user's ends when a
   * factor is added); null after answering.
   */
  who(request: FastifyRequest, reply: FastifyReply): Promise<{ user: User; keep: string | null } | null>;
  /** Where "cancel" leads. */
  cancelHref: string;
  /** A factor was added: finish (sign in, …) and say where to go next; null after answering. */
  added(
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    factor: 'totp' | 'passkey',
  ): Promise<string | null>;
  /** A passkey was refused: answer (the page it came from, with the reason). */
  refused(request: FastifyRequest, reply: FastifyReply, user: User): Promise<FastifyReply>;
}

export function enrolmentPages(app: FastifyInstance, deps: EnrolmentDeps, place: EnrolmentPlace): void {
  const { base } = place;
  const showTotp = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    e: { factorId: string; secret: string; uri: string },
    name: string,
    invalid: boolean,
  ) =>
    sendPage(
      request,
      reply,
      status,
      {
        heading: 'Set up an authenticator app',
        alert: invalid
          ? {
              kind: 'error',
              text: 'That code is not right. Check the app shows this account, and type the newest code.',
            }
          : null,
      },
      totpEnrolment({
        action: `${base}/totp/confirm`,
        csrf: csrfToken(request, reply, deps.csrfKey),
        factorId: e.factorId,
        secret: e.secret,
        uri: e.uri,
        name,
        invalid,
        cancelHref: place.cancelHref,
      }),
    );

  /** After a factor was added: the recovery codes, shown once, when this was the first. */
  async function after(
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    factor: 'totp' | 'passkey',
    result: Extract<Added, { kind: 'ok' }>,
  ) {
    deps.secondFactorMetrics.enrolled(factor === 'passkey' ? 'webauthn' : 'totp');
    const next = await place.added(request, reply, user, factor);
    if (next === null) return reply;
    if (result.recoveryCodes === null) return reply.code(303).header('location', next).send();
    return sendPage(
      request,
      reply,
      200,
      { heading: 'Your recovery codes' },
      recoveryCodesShown({
        codes: result.recoveryCodes,
        next: { href: next, label: 'I saved them, continue' },
      }),
    );
  }

  app.post(`${base}/totp`, async (request, reply) => {
    const acting = await place.who(request, reply);
    if (!acting) return reply;
    const { user } = acting;
    const e = await deps.ownFactors.beginTotp(user);
    return showTotp(
      request,
      reply,
      200,
      { factorId: e.factor.id, secret: e.secret, uri: e.uri },
      'Authenticator app',
      false,
    );
  });

  app.post(`${base}/totp/confirm`, async (request, reply) => {
    const acting = await place.who(request, reply);
    if (!acting) return reply;
    const { user } = acting;
    const factorId = formField(request.body, 'factor_id') ?? '';
    const name = formField(request.body, 'name') ?? '';
    const result = await deps.ownFactors.confirmTotp(
      user,
      factorId,
      formField(request.body, 'code') ?? '',
      name,
      { ip: request.hero.clientIp, keep: acting.keep },
    );
    if (result.kind === 'ok') return after(request, reply, user, 'totp', result);
    // The same secret again (the app may already hold it); a factor that is not this user's unfinished one
    // starts over with a new secret.
    const again = await deps.totp.unfinished(user, factorId);
    if (again)
      return showTotp(request, reply, 400, { factorId, secret: again.secret, uri: again.uri }, name, true);
    const e = await deps.ownFactors.beginTotp(user);
    return showTotp(request, reply, 400, { factorId: e.factor.id, secret: e.secret, uri: e.uri }, name, true);
  });

  app.post(`${base}/passkey`, async (request, reply) => {
    const acting = await place.who(request, reply);
    if (!acting) return reply;
    const { user } = acting;
    const result = await deps.ownFactors.addPasskey(
      user,
      formField(request.body, 'credential') ?? '',
      formField(request.body, 'name') ?? '',
      { ip: request.hero.clientIp, keep: acting.keep },
    );
    if (result.kind === 'ok') return after(request, reply, user, 'passkey', result);
    return place.refused(request, reply, user);
  });
}
