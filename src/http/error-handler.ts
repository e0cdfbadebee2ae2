// Installed before anything else: no Fastify default body (which would leak err.message) ever reaches a
// client. Clients get the registry's answer for the code (a page for browsers where people navigate, else
// problem+json: see failure.ts); the detail goes to the log with the request id.
import type { FastifyError, FastifyInstance } from 'fastify';
import { codeForStatus, HeroError } from '../errors.ts';
import { StoreUnavailableError } from '../ports/store-fault.ts';
import { sendProblem } from './problem.ts';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HeroError, request, reply) => {
    if (err instanceof HeroError) {
      const log =
        err.status >= 500 ? request.log.error.bind(request.log) : request.log.info.bind(request.log);
      log({ code: err.code, detail: err.internal, err: err.cause }, 'request failed');
      return sendProblem(reply, err.code);
    }
    // A store that cannot serve right now (locked, full, away) is the store's fault, not a bug: 503, as everywhere.
    if (err instanceof StoreUnavailableError) {
      request.log.error({ err, reason: err.reason }, 'store unavailable');
      return sendProblem(reply, 'store_unavailable');
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    const code = codeForStatus(status);
    if (status >= 500) request.log.error({ err }, 'unhandled error');
    else request.log.info({ code: err.code, detail: err.message }, 'bad request');
    return sendProblem(reply, code);
  });
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found'));
}

/**
 * Errors Fastify raises before routing (bad URL, bad content type): problem+json, no internals. No config
 * snapshot is known this early, so there is nothing to brand a page with.
 */
export function frameworkErrors(err: FastifyError, _req: unknown, reply: import('fastify').FastifyReply) {
  return sendProblem(reply, codeForStatus(err.statusCode ?? 400));
}
