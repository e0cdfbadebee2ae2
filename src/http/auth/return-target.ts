// Where a browser goes after signing in, and which route that is: return_to is validated when received and
// again at redirect time, so a value that went through a form can never lead off the gateway's origins.
import { normalizeTarget } from '../../core/normalize.ts';
import { type CompiledRoute, matchRoute } from '../../core/routes.ts';
import { safeReturnTo } from '../../core/safe-redirect.ts';
import type { HeroRequestState } from '../state.ts';

/**
 * Where to go after signing in: validated when received and again at redirect time. Nothing asked for means
 * the account page; anything unsafe means "/".
 */
export function returnTarget(s: HeroRequestState, raw: string | null): string {
  const { server } = s.snapshot.config;
  if (raw === null || raw === '') return `${server.auth_prefix}/account`;
  return safeReturnTo(raw, server.public_url, s.snapshot.auth.served);
}

/** The route a return_to leads to, when it leads to one: its auth modes decide which ways in to offer. */
export function targetRoute(s: HeroRequestState, returnTo: string): CompiledRoute | null {
  if (returnTo === '') return null;
  let url: URL;
  try {
    url = new URL(returnTo, `${s.proto}://${s.host.authority}`);
  } catch {
    return null;
  }
  const t = normalizeTarget(url.pathname);
  return t.ok ? matchRoute(s.snapshot.table, url.hostname, t.path) : null;
}
