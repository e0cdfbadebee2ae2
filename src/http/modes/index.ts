// Auth modes: each looks at a request and returns who it is from, or null. A route admits a request when
// any of its modes does.
import type { FastifyRequest } from 'fastify';
import type { AuthMode } from '../../config/schema.ts';
import type { MaybePromise } from '../../core/maybe-promise.ts';
import type { Principal } from '../../core/principal.ts';

export type ModeCheck = (request: FastifyRequest) => MaybePromise<Principal | null>;

export type ModeTable = Readonly<Record<Exclude<AuthMode, 'none'>, ModeCheck>>;

/** Until a mode is built it admits nobody: fail closed. */
export const admitsNobody: ModeCheck = () => null;
