// The `bearer` mode: an API token in `Authorization: Bearer`, and nowhere else (never query, body or cookie,
// which end up in logs, histories and caches).
import type { ApiTokenService } from '../../services/api-tokens.ts';
import type { Credentials, Mode } from './index.ts';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export function bearerMode(tokens: ApiTokenService): Mode {
  return {
    credential: 'authorization',
    vouch(headers: Credentials) {
      const header = headers.authorization;
      if (!header) return null;
      const m = BEARER.exec(header);
      if (!m) return null;
      return tokens.verify(m[1] as string);
    },
  };
}
