// POST /auth/passkey: "Sign in with a passkey" from the sign-in page. The passkey names the account and, with
// the user verified, is two factors at once: the session starts as `passkey` and counts as a second factor.
import type { FastifyInstance } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import { formField } from '../auth/respond.ts';
import { returnTarget } from '../auth/return-target.ts';
import { sendProblem } from '../problem.ts';
import type { PagesDeps } from './deps.ts';
import { type SignInDeps, signIn } from './sign-in.ts';

export type PasskeySignInDeps = SignInDeps & Pick<PagesDeps, 'secondFactors'>;

export function passkeySignInPage(app: FastifyInstance, deps: PasskeySignInDeps, prefix: string): void {
  app.post(`${prefix}/passkey`, async (request, reply) => {
    const s = request.hero;
    const rawReturn = formField(request.body, 'return_to');
    const back = rawReturn ? `?return_to=${encodeURIComponent(rawReturn)}` : '';
    const result = await deps.secondFactors.passkeySignIn(
      formField(request.body, 'credential') ?? '',
      s.clientIp,
    );
    if (result.kind !== 'ok') {
      deps.signInMetric('passkey', result.kind);
      deps.audit.record({
        action: result.kind === 'throttled' ? 'login.throttled' : 'login.failure',
        ip: s.clientIp,
        detail: { method: 'passkey' },
      });
      if (result.kind === 'throttled')
        reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)));
      const code = result.kind === 'throttled' ? 'too_many_requests' : 'invalid_second_factor';
      if (!prefersHtml(request.headers.accept)) return sendProblem(reply, code);
      // Back to the sign-in page, which says what happened; the form there makes a new challenge.
      return reply
        .code(303)
        .header('location', `${prefix}/login${back}${back ? '&' : '?'}failed=passkey`)
        .send();
    }
    const next = await signIn(request, reply, deps, result.user, 'passkey', returnTarget(s, rawReturn));
    return reply.code(303).header('location', next).send();
  });
}
