// The device cookie: proof that this browser signed in to an account before, which lifts the account-wide
// sign-in limit for it (see services/throttle.ts). Signed (user, time); void once the password changes.
import type { FastifyReply } from 'fastify';
import type { User } from '../../core/records.ts';
import type { SigningKey } from '../../crypto/keys.ts';
import { cookieAttributes } from './settings.ts';

// Browsers keep cookies at most 400 days; the signature carries its own age, checked here too.
const MAX_AGE_MS = 400 * 86_400_000;

export function deviceProof(key: SigningKey, user: User, issuedAt: number): string {
  return `${issuedAt.toString(36)}.${key.sign(`${user.id}|${issuedAt}`)}`;
}

export function isKnownDevice(key: SigningKey, value: string | null, user: User, now: number): boolean {
  if (value === null) return false;
  const dot = value.indexOf('.');
  const issuedAt = Number.parseInt(value.slice(0, dot), 36);
  if (dot < 1 || !Number.isSafeInteger(issuedAt) || now - issuedAt > MAX_AGE_MS) return false;
  // A cookie from before the latest password change proves nothing about the new password's owner.
  if (issuedAt < (user.passwordChangedAt ?? 0)) return false;
  return key.verify(`${user.id}|${issuedAt}`, value.slice(dot + 1));
}

export function setDeviceCookie(reply: FastifyReply, key: SigningKey, user: User, now: number): void {
  const spec = reply.request.hero.snapshot.auth.device;
  reply.setCookie(
    spec.name,
    deviceProof(key, user, now),
    cookieAttributes(spec, { sameSite: 'strict', maxAge: MAX_AGE_MS / 1000 }),
  );
}
