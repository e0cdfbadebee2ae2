// Passkeys on a page: the options a page hands to passkey.js, only where a browser could use them (the page's
// origin is one the relying party names); elsewhere the page offers codes alone.
import type { FastifyRequest } from 'fastify';
import type { User } from '../../core/records.ts';
import type { Passkeys } from '../../services/second-factor/passkeys.ts';
import { requestOrigin } from '../auth/csrf.ts';
import { relyingParty } from '../auth/relying-party.ts';

/** The ceremony's options as JSON for the page, or null where passkeys cannot work. */
export async function passkeyOptions(
  request: FastifyRequest,
  passkeys: Passkeys,
  user: User | null,
  ceremony: 'authenticate' | 'register' = 'authenticate',
): Promise<string | null> {
  const { config, table } = request.hero.snapshot;
  if (!relyingParty(config, table).origins.includes(requestOrigin(request.hero))) return null;
  const options =
    ceremony === 'register' && user
      ? await passkeys.registrationOptions(user)
      : await passkeys.authenticationOptions(user);
  return JSON.stringify(options);
}
