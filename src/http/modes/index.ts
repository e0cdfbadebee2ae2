// Auth modes: each reads a request's credentials and returns who it is from, or null. A route admits a request
// when any of its modes does. Modes read; they never change the request or anything about it.
import type { AuthMode } from '../../config/schema.ts';
import type { MaybePromise } from '../../core/maybe-promise.ts';
import type { Principal } from '../../core/principal.ts';
import type { CompiledRoute } from '../../core/routes.ts';

/** The request headers a mode may read. */
export interface Credentials {
  cookie?: string | undefined;
  authorization?: string | undefined;
}

export interface Mode {
  /** The credential this mode reads, and so consumes when it vouches (Authorization is then not passed on). */
  credential: 'authorization' | 'session-cookie';
  /** Who the credentials are from, or null. `cookieName` is the session cookie's name in this config. */
  vouch(headers: Credentials, route: CompiledRoute, cookieName: string): MaybePromise<Principal | null>;
}

export type ModeTable = Readonly<Record<Exclude<AuthMode, 'none'>, Mode>>;
