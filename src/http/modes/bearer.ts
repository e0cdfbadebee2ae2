// The `bearer` mode: an API token in `Authorization: Bearer`, and nowhere else (never query, body or cookie,
// which end up in logs, histories and caches).
import type { FastifyRequest } from 'fastify';
import { chain } from '../../core/maybe-promise.ts';
import type { ApiTokenService } from '../../services/api-tokens.ts';
import type { ModeCheck } from './index.ts';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export function bearerMode(tokens: ApiTokenService): ModeCheck {
  return (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (!header) return null;
    const m = BEARER.exec(header);
    if (!m) return null;
    return chain(tokens.verify(m[1] as string), (principal) => {
      if (principal) request.hero.consumedAuthorization = true;
      return principal;
    });
  };
}
