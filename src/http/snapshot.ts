// The current config and compiled route table, swapped as a whole (config reload replaces `current`).
import type { Config } from '../config/load.ts';
import { compileTrustedProxies, type TrustCheck } from '../core/client-ip.ts';
import { compileRoutes, type RouteTable } from '../core/routes.ts';
import { type AuthSettings, compileAuthSettings } from './auth/settings.ts';
import { stylesheet } from './views/style.ts';

export interface Snapshot {
  readonly config: Config;
  readonly table: RouteTable;
  readonly trusted: TrustCheck;
  /** "https:" or "http:", from public_url: the scheme of links the gateway builds. */
  readonly publicOrigin: string;
  readonly auth: AuthSettings;
  readonly style: { css: string; icon: string; version: string };
}

export function compileSnapshot(config: Config): Snapshot {
  const table = compileRoutes(config.route);
  const style = stylesheet(config.branding.accent_color);
  return Object.freeze({
    config,
    table,
    auth: compileAuthSettings(config, table, style.version),
    style,
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
