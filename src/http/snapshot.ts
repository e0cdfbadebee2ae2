// The current config and compiled route table, swapped as a whole (config reload replaces `current`).
import type { Config } from '../config/load.ts';
import { compileTrustedProxies, type TrustCheck } from '../core/client-ip.ts';
import { compileRoutes, type RouteTable } from '../core/routes.ts';

export interface Snapshot {
  readonly config: Config;
  readonly table: RouteTable;
  readonly trusted: TrustCheck;
  /** "https:" or "http:", from public_url: the scheme of links the gateway builds. */
  readonly publicOrigin: string;
}

export function compileSnapshot(config: Config): Snapshot {
  return Object.freeze({
    config,
    table: compileRoutes(config.route),
    trusted: compileTrustedProxies(config.server.trusted_proxies),
    publicOrigin: new URL(config.server.public_url).origin,
  });
}

export class SnapshotHolder {
  current: Snapshot;
  constructor(initial: Snapshot) {
    this.current = initial;
  }
}
