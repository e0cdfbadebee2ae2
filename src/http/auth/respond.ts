// Answers from the auth endpoints: HTML pages for browsers, problem+json for everyone else, and the headers
// every auth answer carries.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { prefersHtml } from '../../core/accept.ts';
import type { SafeHtml } from '../../core/html.ts';
import { ERRORS, type ErrorCode } from '../../errors.ts';
import { sendPage } from '../page-reply.ts';
import { sendProblemJson } from '../problem-json.ts';

export { sendFailure } from '../failure.ts';
// The page shell and the failure answer live beside the proxy's, so a page on an app's host and one here
// are built and sent alike.
export { authHeaders, sendPage } from '../page-reply.ts';

/**
 * A form page, again with an alert when what was sent was refused: browsers see the form with the failure's
 * status, scripts get the problem document with its code.
 */
export function sendForm(
  request: FastifyRequest,
  reply: FastifyReply,
  heading: string,
  failure: { code: ErrorCode; text: string } | null,
  content: () => SafeHtml,
): FastifyReply {
  if (failure && !prefersHtml(request.headers.accept)) return sendProblemJson(reply, failure.code);
  const status = failure ? ERRORS[failure.code].status : 200;
  return sendPage(
    request,
    reply,
    status,
    { heading, alert: failure ? { kind: 'error', text: failure.text } : null },
    content(),
  );
}

/** A single form field as a string; repeated or missing fields are absent. */
export function formField(body: unknown, name: string): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : null;
}
