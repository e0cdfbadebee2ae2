// The new API token between "create" and the page that shows it: the POST answers 303 (a reload then repeats
// only the GET, never the creation) and hands the token to that GET in a short-lived, sealed, host-only cookie
// that the GET reads and clears at once. So the plaintext token is never in a URL, a log line or a cached answer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readCookie } from '../../core/cookies.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import { randomSecret } from '../../crypto/tokens.ts';
import type { ActiveSession } from '../../services/sessions.ts';
import type { CookieSpec } from '../auth/settings.ts';
import { cookieAttributes } from '../auth/settings.ts';

/** Long enough for the 303 to be followed, short enough that a forgotten one is gone soon. */
const MAX_AGE_S = 30;

/**
 * Flashes already shown, until they expire. Clearing the cookie is up to the browser; this makes the flash
 * one-time on the server too, so a copied cookie cannot show the token again (showing leaves no audit record,
 * creating does). Per process: with workers a copy could be shown once more by another worker within 30 s.
 */
const shown = new Map<string, number>();
const MAX_SHOWN = 10_000;

function firstShowing(id: string, expiresAt: number, now: number): boolean {
  for (const [k, exp] of shown) if (exp <= now) shown.delete(k);
  if (shown.has(id)) return false;
  // Full of live entries (a flood of creations): refuse to show rather than forget what was shown.
  if (shown.size >= MAX_SHOWN) return false;
  shown.set(id, expiresAt);
  return true;
}

interface Flash {
  /** Random: what `shown` remembers. */
  id: string;
  /** The session that created it: another user (or session) in the same browser never sees it. */
  session: string;
  name: string;
  token: string;
  expiresAt: number;
}

/**
 * The CSRF cookie's attributes under another name in the same `hero_` namespace: host-only, Secure wherever
 * the browser allows, `__Host-` where possible (auth/settings.ts decides those for the CSRF cookie).
 */
function flashSpec(request: FastifyRequest): CookieSpec {
  const csrf = request.hero.snapshot.auth.csrf;
  return { ...csrf, name: csrf.name.replace('hero_csrf', 'hero_token_flash') };
}

export function setTokenFlash(
  reply: FastifyReply,
  sealer: Sealer,
  active: ActiveSession,
  created: { name: string; token: string },
  now: number,
): void {
  const spec = flashSpec(reply.request);
  const flash: Flash = {
    id: randomSecret(16),
    session: active.session.id,
    ...created,
    expiresAt: now + MAX_AGE_S * 1000,
  };
  // Strict: only our own 303 brings it back, never a request started by another site.
  reply.setCookie(
    spec.name,
    sealer.seal(flash),
    cookieAttributes(spec, { sameSite: 'strict', maxAge: MAX_AGE_S }),
  );
}

/** The token created by this session, once: the cookie is cleared whatever it held. */
export function takeTokenFlash(
  request: FastifyRequest,
  reply: FastifyReply,
  sealer: Sealer,
  active: ActiveSession,
  now: number,
): { name: string; token: string } | null {
  const spec = flashSpec(request);
  const value = readCookie(request.headers.cookie, spec.name);
  if (value === null) return null;
  reply.setCookie(spec.name, '', cookieAttributes(spec, { sameSite: 'strict', maxAge: 0 }));
  const flash = sealer.open(value) as Partial<Flash> | null;
  if (
    !flash ||
    typeof flash.id !== 'string' ||
    flash.session !== active.session.id ||
    typeof flash.expiresAt !== 'number' ||
    flash.expiresAt <= now ||
    typeof flash.name !== 'string' ||
    typeof flash.token !== 'string' ||
    !firstShowing(flash.id, flash.expiresAt, now)
  )
    return null;
  return { name: flash.name, token: flash.token };
}
