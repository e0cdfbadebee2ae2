// The auth gate in front of the proxy: renders the one decision (decide.ts) for a proxied request. Anything that
// is not explicitly admitted is answered here and never reaches an upstream.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { type Decision, unrendered } from '../core/decision.ts';
import { isPromise, type MaybePromise } from '../core/maybe-promise.ts';
import { HeroError } from '../errors.ts';
import { decide, type GateDeps } from './decide.ts';
import { sendProblem } from './problem.ts';

export type { Admitted, GateDeps } from './decide.ts';

// Fail closed: when identities cannot be verified nothing is forwarded.
const storeFailure = (err: unknown) =>
  err instanceof HeroError
    ? err
    : new HeroError('store_unavailable', 'identity lookup failed', { cause: err });

function render(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  d: Decision,
): void {
  const s = request.hero;
  if (d.kind === 'not-found') {
    if (d.authPath) s.onAuthPath = true;
    sendProblem(reply, 'not_found');
    return;
  }
  // The route is known before any answer: pages (api routes answer JSON) and the access log read it.
  s.route = d.route;
  switch (d.kind) {
    case 'pass':
      done();
      return;
    case 'admit':
      s.principal = d.principal;
      s.claims = d.claims;
      s.assertion = d.assertion;
      s.consumedAuthorization = d.consumedAuthorization;
      done();
      return;
    case 'sign-in':
      reply.code(303).header('location', d.location).header('cache-control', 'no-store').send();
      return;
    case 'challenge':
      if (d.bearer) reply.header('www-authenticate', 'Bearer realm="hero-gateway"');
      sendProblem(reply, 'auth_required', { login_url: d.loginUrl });
      return;
    case 'second-factor':
      s.principal = d.principal;
      if (d.browser)
        reply.code(303).header('location', d.location).header('cache-control', 'no-store').send();
      else sendProblem(reply, 'mfa_required', { mfa_url: d.location });
      return;
    case 'forbidden':
      // Who was refused, for the page and the access log; a refused request is never forwarded.
      s.principal = d.principal;
      sendProblem(reply, 'forbidden');
      return;
    default:
      sendProblem(reply, unrendered(d));
  }
}

// Callback-style so that `none` routes, refusals and cached identities finish in the same tick.
export function gateHook(deps: GateDeps) {
  return function gate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    let d: MaybePromise<Decision>;
    try {
      d = decide(deps, request.hero, request.headers, false);
    } catch (err) {
      done(storeFailure(err));
      return;
    }
    if (isPromise(d))
      d.then(
        (decided) => render(request, reply, done, decided),
        (err) => done(storeFailure(err)),
      ).catch((err) => request.log.error({ err }, 'auth gate failed'));
    else render(request, reply, done, d);
  };
}
