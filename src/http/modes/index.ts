// Auth modes: each looks at a request and returns who it is from, or null. A route admits a request when
// any of its modes does.
import type { FastifyRequest } from 'fastify';
import type { AuthMode } from '../../config/schema.ts';
import type { MaybePromise } from '../../core/maybe-promise.ts';
import type { Principal } from '../../core/principal.ts';
import type { CompiledRoute } from '../../core/routes.ts';

export type ModeCheck = (request: FastifyRequest, route: CompiledRoute) => MaybePromise<Principal | null>;

export type ModeTable = Readonly<Record<Exclude<AuthMode, 'none'>, ModeCheck>>;
