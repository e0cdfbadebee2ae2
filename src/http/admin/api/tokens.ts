// /api/v1/tokens: API tokens for any user (admins) or for yourself; the plain token appears only in the
// response that created it.
import { z } from 'zod';
import { parseDuration } from '../../../config/duration.ts';
import { CLAIM } from '../../../core/names.ts';
import type { ApiToken } from '../../../ports/store.ts';
import { sendProblem } from '../../problem.ts';
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
  const { store, clock, audit } = deps;
  const isAdmin = (claims: readonly string[]) => claims.includes('gateway.admin');
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
          const u = await store.users.byUsername(query.user);
          if (!u) return sendProblem(reply, 'not_found');
          userId = u.id;
        }
        return { tokens: (await store.apiTokens.list(userId)).map(tokenView) };
      },
    }),
    endpoint<z.output<typeof NewToken>>({
      method: 'POST',
      path: '/tokens',
      claim: 'gateway.tokens.write',
      summary: 'Create an API token; the plain token is in this response only',
      body: NewToken,
      async handler({ body, caller, reply }) {
        const owner = body.user ? await store.users.byUsername(body.user) : caller.user;
        if (!owner) return sendProblem(reply, 'not_found');
        // A token for someone else would act as them: only an admin may mint one.
        if (owner.id !== caller.user.id && !isAdmin(caller.claims)) return sendProblem(reply, 'forbidden');
        // Your own token never carries a claim your own token does not hold now.
        if (owner.id === caller.user.id && body.claims?.some((c) => !caller.claims.includes(c)))
          return sendProblem(reply, 'forbidden');
        const ms = body.expires_in ? (parseDuration(body.expires_in) as number) : null;
        const { token, record } = await deps.tokens.issue({
          userId: owner.id,
          name: body.name,
          claims: body.claims
            ? [...new Set(body.claims)].sort()
            : owner.id === caller.user.id && !isAdmin(caller.claims)
              ? [...caller.claims]
              : null,
          expiresAt: ms === null ? null : clock.now() + ms,
        });
        audit.record({
          action: 'token.create',
          actor: caller.user.username,
          target: record.id,
          detail: { user: owner.username },
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
        const t = await store.apiTokens.byId(params.id ?? '');
        if (!t || (t.userId !== caller.user.id && !isAdmin(caller.claims)))
          return sendProblem(reply, 'not_found');
        await store.apiTokens.revoke(t.id, clock.now());
        audit.record({ action: 'token.revoke', actor: caller.user.username, target: t.id });
        return reply.code(204).send();
      },
    }),
  ];
}
