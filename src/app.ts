// Composition root: builds the services and the two Fastify instances (main and admin) from a config and a
// store. Wiring only — behaviour lives in http/, services/ and core/.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config/load.ts';
import { healthRoutes } from './http/admin/health.ts';
import { authRoutes } from './http/auth-routes.ts';
import { frameworkErrors, installErrorHandling } from './http/error-handler.ts';
import { AccessLog, lazyChildLogger } from './http/logging.ts';
import { bearerMode } from './http/modes/bearer.ts';
import { admitsNobody } from './http/modes/index.ts';
import { proxyPlugin } from './http/proxy.ts';
import { compileSnapshot, SnapshotHolder } from './http/snapshot.ts';
import { targetHook } from './http/target.ts';
import type { Logger } from './logger.ts';
import type { Clock } from './ports/clock.ts';
import type { Store } from './ports/store.ts';
import { ApiTokenService } from './services/api-tokens.ts';
import { AuthzFreshness } from './services/authz-freshness.ts';
import { ClaimResolver } from './services/claims.ts';

export interface GatewayDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
}

export interface Gateway {
  app: FastifyInstance;
  admin: FastifyInstance | null;
  snapshots: SnapshotHolder;
  close(): Promise<void>;
}

function fastifyOptions(logger: Logger) {
  return {
    // pino's Logger is a FastifyBaseLogger; the cast only pins Fastify's generic to the base type.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new AccessLog(),
    childLoggerFactory: lazyChildLogger,
    requestIdHeader: false as const,
    genReqId: () => randomUUID(),
    trustProxy: false,
    return503OnClosing: true,
    frameworkErrors,
    routerOptions: { ignoreDuplicateSlashes: false, ignoreTrailingSlash: false, maxParamLength: 2048 },
  };
}

export async function buildGateway(deps: GatewayDeps): Promise<Gateway> {
  const { config, store, clock, logger } = deps;
  const snapshots = new SnapshotHolder(compileSnapshot(config));
  const freshness = new AuthzFreshness(store.authz);
  const tokens = new ApiTokenService(store, clock, {
    freshness,
    onTouchError: (err) => logger.warn({ err }, 'could not record token use'),
  });
  const claims = new ClaimResolver(store.authz, freshness);

  const app = Fastify(fastifyOptions(logger));
  installErrorHandling(app);
  app.decorateRequest('hero', null as never);
  app.addHook('onRequest', targetHook(snapshots));
  await app.register(authRoutes, { prefix: config.server.auth_prefix });
  await app.register(proxyPlugin, {
    modes: { bearer: bearerMode(tokens), local: admitsNobody, oauth: admitsNobody },
    claims,
    freshness,
  });

  let admin: FastifyInstance | null = null;
  if (config.admin.listen !== '') {
    const adminApp = Fastify(fastifyOptions(logger.child({ listener: 'admin' })));
    installErrorHandling(adminApp);
    await adminApp.register(healthRoutes, { store });
    admin = adminApp;
  }

  return {
    app,
    admin,
    snapshots,
    async close() {
      await Promise.allSettled([app.close(), admin?.close()]);
    },
  };
}
