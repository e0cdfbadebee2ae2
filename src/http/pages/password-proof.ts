// The password-proof cookie: this browser chose an unconfirmed account's password (registration) or proved it
// (a right password on an account whose address is not confirmed yet). Confirming the address in this browser
// keeps that password; in any other browser the confirmer must type it or take the account over. Signed
// (user, time) under its own key; void once the password changes, and after a confirmation link's lifetime.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import type { User } from '../../core/records.ts';
import type { SigningKey } from '../../crypto/keys.ts';
import { randomSecret } from '../../crypto/tokens.ts';
import { LINK_TTL_MS } from '../../services/one-time-links.ts';
import { cookieAttributes } from '../auth/settings.ts';

const MAX_AGE_MS = LINK_TTL_MS.verify_email;

/**
 * Sets the proof for `user`; for null (registration of a taken address) a value of the same shape that proves
 * nothing, so the answer's cookies do not tell whether the address has an account.
 */
export function setPasswordProof(reply: FastifyReply, key: SigningKey, user: User | null, now: number): void {
  const spec = reply.request.hero.snapshot.auth.passwordProof;
  const mac = user ? key.sign(`${user.id}|${now}`) : randomSecret(32);
  // Lax, not Strict: the confirmation link is opened from a mail client (another site), and the page it
  // shows already depends on the proof. It grants nothing by itself: the POST it helps is CSRF-checked.
  reply.setCookie(
    spec.name,
    `${now.toString(36)}.${mac}`,
    cookieAttributes(spec, { sameSite: 'lax', maxAge: MAX_AGE_MS / 1000 }),
  );
}

/** Whether this request's browser holds a current proof for `user`. Never throws. */
export function browserKnowsPassword(
  request: FastifyRequest,
  key: SigningKey,
  now: number,
): (user: User) => boolean {
  const value = readCookie(request.headers.cookie, request.hero.snapshot.auth.passwordProof.name);
  return (user) => {
    if (value === null) return false;
    const dot = value.indexOf('.');
    const issuedAt = Number.parseInt(value.slice(0, dot), 36);
    if (dot < 1 || !Number.isSafeInteger(issuedAt) || now - issuedAt > MAX_AGE_MS) return false;
    // A proof from before the password last changed (or was removed by a takeover) proves nothing about the
    // password now; the same instant counts as before, so a takeover always voids the registrant's proof.
    if (user.passwordChangedAt !== null && issuedAt <= user.passwordChangedAt) return false;
    return key.verify(`${user.id}|${issuedAt}`, value.slice(dot + 1));
  };
}
