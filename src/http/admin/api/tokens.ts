// /api/v1/tokens: API tokens for any user (admins) or for yourself, under the one claim rule of
// services/accounts/tokens.ts; the plain token appears only in the response that created it.
import { z } from 'zod';
import { parseDuration } from '../../../config/duration.ts';
import { CLAIM } from '../../../core/names.ts';
import type { ApiToken } from '../../../core/records.ts';
import { sendProblem } from '../../problem.ts';
import { callerActor } from './auth.ts';
import type { AdminDeps } from './deps.ts';
import { type Endpoint, endpoint } from './endpoint.ts';

const NewToken = z.strictObject({
  user: z.string().min(1).max(64).optional(),
  name: z.string().min(1).max(64),
  claims: z.array(z.string().regex(CLAIM)).max(100).optional(),
  expires_in: z
    .string()
    .refine((v) => parseDuration(v) !== null, 'must be a duration like "90d"')
    .optional(),
});
const TokenQuery = z.strictObject({ user: z.string().min(1).max(64).optional() });

const tokenView = (t: ApiToken) => ({
  id: t.id,
  user_id: t.userId,
  name: t.name,
  claims: t.claims,
  created_at: new Date(t.createdAt).toISOString(),
  expires_at: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
  last_used_at: t.lastUsedAt === null ? null : new Date(t.lastUsedAt).toISOString(),
  revoked: t.revokedAt !== null,
});

export function tokenEndpoints(deps: AdminDeps): Endpoint[] {
  // Read when a request comes, not now: the table of endpoints is also listed without any wiring.
  const accounts = deps.accounts;
  return [
    endpoint<undefined, z.output<typeof TokenQuery>>({
      method: 'GET',
      path: '/tokens',
      claim: 'gateway.tokens.write',
      summary: 'List API tokens (all, or one user’s); never the tokens themselves',
      query: TokenQuery,
      async handler({ query, reply }) {
        let userId: string | undefined;
        if (query.user) {
          const u = await accounts.users.byName(query.user);
          if (!u) return sendProblem(reply, 'not_found');
          userId = u.id;
        }
        return { tokens: (await accounts.tokens.list(userId)).map(tokenView) };
      },
    }),
    endpoint<z.output<typeof NewToken>>({
      method: 'POST',
      path: '/tokens',
      claim: 'gateway.tokens.write',
      summary: 'Create an API token; the plain token is in this response only',
      body: NewToken,
      async handler({ body, caller, reply }) {
        const owner = body.user ? await accounts.users.byName(body.user) : caller.user;
        if (!owner) return sendProblem(reply, 'not_found');
        const { token, record } = await accounts.tokens.issue(callerActor(caller), owner, {
          name: body.name,
          claims: body.claims ?? null,
          lifetimeMs: body.expires_in ? (parseDuration(body.expires_in) as number) : null,
        });
        reply.code(201);
        return { token, ...tokenView(record) };
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/tokens/:id',
      claim: 'gateway.tokens.write',
      summary: 'Revoke an API token',
      async handler({ params, caller, reply }) {
        await accounts.tokens.revoke(callerActor(caller), params.id ?? '');
        return reply.code(204).send();
      },
    }),
  ];
}
