// Composition root: builds the services and the two Fastify instances (main and admin) from a config and a
// store. Wiring only — behaviour lives in http/, services/ and core/.
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { fileAuditLog } from './adapters/audit-file.ts';
import { readLegacySigningKeys } from './adapters/legacy-signing-keys.ts';
import { openidDiscovery } from './adapters/openid/client.ts';
import { polledAuthzVersions } from './adapters/polled-authz-versions.ts';
import type { Config, LoadResult } from './config/load.ts';
import { SigningKey } from './crypto/keys.ts';
import { Sealer } from './crypto/sealed.ts';
import { adminApi } from './http/admin/api/index.ts';
import { healthRoutes } from './http/admin/health.ts';
import { adminHostGuard } from './http/admin/host-guard.ts';
import { metricsRoutes } from './http/admin/metrics.ts';
import { authRoutes } from './http/auth-routes.ts';
import { ListenerConnections } from './http/connections.ts';
import { frameworkErrors, installErrorHandling } from './http/error-handler.ts';
import { forwardAuthRoutes } from './http/forward-auth.ts';
import { InFlight } from './http/in-flight.ts';
import { AccessLog, lazyChildLogger } from './http/logging.ts';
import { GatewayMetrics } from './http/metrics.ts';
import { bearerMode } from './http/modes/bearer.ts';
import { localMode } from './http/modes/local.ts';
import { oauthMode } from './http/modes/oauth.ts';
import { proxyPlugin } from './http/proxy.ts';
import { type ReloadPart, type ReloadResult, reloadConfig } from './http/reload.ts';
import { compileSnapshot, SnapshotHolder } from './http/snapshot.ts';
import { targetHook } from './http/target.ts';
import { type TlsPair, tlsAtStart, tlsReloadPart } from './http/tls.ts';
import { TunnelWatch } from './http/tunnels.ts';
import { websocketUpgrades } from './http/websocket.ts';
import type { Logger } from './logger.ts';
import { buildMail } from './mail.ts';
import { type AuditLog, noAudit } from './ports/audit.ts';
import type { AuthzVersions } from './ports/authz-versions.ts';
import type { Clock } from './ports/clock.ts';
import type { Mailer } from './ports/mailer.ts';
import type { OidcDiscovery } from './ports/oidc.ts';
import type { Store } from './ports/store.ts';
import { buildSecondFactors } from './second-factors.ts';
import { buildAccounts } from './services/accounts/index.ts';
import { ApiTokenService } from './services/api-tokens.ts';
import { IdentityAssertions } from './services/assertions.ts';
import { AuthzFreshness } from './services/authz-freshness.ts';
import { ClaimResolver } from './services/claims.ts';
import { FirstPassword } from './services/first-password.ts';
import { purgeStale } from './services/housekeeping.ts';
import { PasswordLogin } from './services/login.ts';
import { OidcAccounts } from './services/oidc-accounts.ts';
import { OidcLogin } from './services/oidc-login.ts';
import { OidcProviders, type RetryPolicy } from './services/oidc-providers.ts';
import type { OutboxSender } from './services/outbox.ts';
import { StoreAvailability, storeReadiness } from './services/readiness.ts';
import { SessionService } from './services/sessions.ts';
import { FirstRunSetup } from './services/setup.ts';
import { SigningKeyRing } from './services/signing-keys.ts';
import { MailThrottle, MemoryThrottle, SignInThrottle, START_POLICY } from './services/throttle.ts';

const HOUSEKEEPING_INTERVAL_MS = 3_600_000;
/**
 * The first purge waits this long after start: a restart (a deploy) is when clients come back all at once, and
 * their first requests never share the loop with a backlog purge. Short enough that a process restarted every
 * minute or so (a crash loop, when the backlog grows) still purges.
 */
const HOUSEKEEPING_FIRST_DELAY_MS = 15_000;

export interface GatewayDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The server secret (config or data_dir/secret): keys for CSRF tokens and device cookies derive from it. */
  secret: string;
  /** Reads the config file again (for reloads); without it a reload reports that there is no file. */
  loadConfig?: () => LoadResult;
  /** Identity providers: how they are discovered (openid-client) and retried when down. */
  oidc?: { discovery?: OidcDiscovery; retry?: RetryPolicy };
  /** Authz versions pushed by the store's backend; without it the store's version is read once per request. */
  authzVersions?: AuthzVersions;
  /** How often the signing keys are re-read from the store (default KEY_REFRESH_MS; tests go faster). */
  signingKeys?: { refreshMs?: number };
}

export interface Gateway {
  app: FastifyInstance;
  admin: FastifyInstance | null;
  snapshots: SnapshotHolder;
  setup: FirstRunSetup;
  /** Validates and swaps in the config file again; a bad file changes nothing. */
  reload(): ReloadResult;
  /** Resolves when every audit event so far is written. */
  auditFlushed(): Promise<void>;
  /** Background work of a serving gateway: the mail outbox, hourly housekeeping. Stopped by close(). */
  startBackground(): void;
  outbox: OutboxSender;
  mailer: Mailer;
  close(): Promise<void>;
}

function fastifyOptions(logger: Logger, metrics?: GatewayMetrics, tls?: TlsPair | null) {
  return {
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    // pino's Logger is a FastifyBaseLogger; the cast only pins Fastify's generic to the base type.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new AccessLog(metrics ? (request, reply) => metrics.request(request, reply) : undefined),
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
  // First, before anything is opened: an unusable certificate stops the start with one line.
  const tls = tlsAtStart(config);
  const snapshots = new SnapshotHolder(compileSnapshot(config));
  // The keys live in the store, shared by every instance; a key sealed under another secret stops the start.
  const keyLog = logger.child({ component: 'signing-keys' });
  const { ring: keys, outcome: keysFound } = await SigningKeyRing.open(
    { store, clock, secret: deps.secret, legacyKeys: () => readLegacySigningKeys(config.server.data_dir) },
    {
      changed: (kids) => keyLog.info({ kids }, 'signing keys changed'),
      refreshFailed: (err) =>
        keyLog.warn({ err }, 'could not re-read the signing keys; keeping the current ones'),
    },
  );
  if (keysFound === 'imported')
    keyLog.info(
      { dir: config.server.data_dir },
      'imported the signing keys of data_dir/signing-keys.json into the store; the file is no longer read',
    );
  // Pushed by the database where it can (no store read per request), else asked on each request.
  const freshness = new AuthzFreshness(
    deps.authzVersions ?? store.authzVersions?.() ?? polledAuthzVersions(store.authz),
  );
  const tokens = new ApiTokenService(store, clock, {
    freshness,
    onTouchError: (err) => logger.warn({ err }, 'could not record token use'),
  });
  const claims = new ClaimResolver(store.authz, freshness);
  const sessions = new SessionService(store, clock, {
    timeouts: () => {
      const c = snapshots.current.config.session;
      return { idleMs: c.idle_timeout, absoluteMs: c.absolute_timeout };
    },
    freshness,
    onTouchError: (err) => logger.warn({ err }, 'could not record session activity'),
  });
  const login = new PasswordLogin(store, new SignInThrottle(store, clock), {
    requireVerifiedEmail: () => snapshots.current.config.accounts.require_verified_email,
    onRehashError: (err) => logger.warn({ err }, 'could not upgrade a password hash'),
  });
  const setup = new FirstRunSetup(store, clock, deps.secret);
  const oidcLog = logger.child({ component: 'oidc' });
  const providers = new OidcProviders(deps.oidc?.discovery ?? openidDiscovery({ clock }), {
    ...(deps.oidc?.retry ? { retry: deps.oidc.retry } : {}),
    now: () => clock.now(),
    events: {
      ready: (provider, issuer) => oidcLog.info({ provider, issuer }, 'identity provider ready'),
      down: (provider, error, retryInMs) =>
        oidcLog.warn({ provider, error, retry_in_ms: retryInMs }, 'identity provider unavailable'),
    },
  });
  providers.sync(config.oidc);
  const oidcLogin = new OidcLogin(store, clock, providers, new OidcAccounts(store, clock), {
    registrationOpen: () => snapshots.current.config.accounts.registration === 'open',
    stateSealer: new Sealer(deps.secret, 'oidc-state'),
    tokenSealer: new Sealer(deps.secret, 'oidc-tokens'),
  });
  const assertions = new IdentityAssertions(
    () => keys.keys,
    clock,
    () => snapshots.current.config.server.public_url.replace(/\/$/, ''),
  );
  const auditFile = config.server.audit_log
    ? fileAuditLog(config.server.audit_log, clock, (err) =>
        logger.error({ err }, 'could not write the audit log'),
      )
    : null;
  const audit: AuditLog = auditFile ?? noAudit;
  const {
    mailer,
    outbox,
    links,
    accounts: emailFlows,
  } = buildMail({
    config: () => snapshots.current.config,
    store,
    clock,
    secret: deps.secret,
    log: logger.child({ component: 'mail' }),
  });
  const accounts = buildAccounts({
    store,
    clock,
    audit,
    tokens,
    mail: emailFlows,
    passwordMinLength: () => snapshots.current.config.accounts.password_min_length,
  });

  const secondFactors = buildSecondFactors({
    store,
    clock,
    secret: deps.secret,
    claims,
    links,
    audit,
    snapshot: () => snapshots.current,
  });

  const metrics = new GatewayMetrics({
    activeSessions: () => store.sessions.countActive(clock.now()),
    outboxDepth: () => outbox.depth(),
  });
  // With tls_cert the main listener is an https server (the proto of its requests is https); the cast only
  // pins Fastify's server generic, the instance is used through the parts https and http share.
  const app = Fastify(fastifyOptions(logger, metrics, tls)) as unknown as FastifyInstance;
  const reloadParts: ReloadPart[] = [];
  if (tls) {
    const loaded = (pair: TlsPair) => {
      logger.info({ subject: pair.subject, not_after: pair.notAfter }, 'TLS certificate loaded');
      if (pair.keyWorldReadable)
        logger.warn(
          { file: config.server.tls_key },
          'the TLS key is readable by every user: chmod 600 (or 640)',
        );
    };
    loaded(tls);
    reloadParts.push(tlsReloadPart(app.server as unknown as TlsServer, loaded));
  }
  installErrorHandling(app);
  app.decorateRequest('hero', null as never);
  app.addHook('onRequest', targetHook(snapshots));
  const reload = (): ReloadResult => {
    const result = deps.loadConfig
      ? reloadConfig(snapshots, deps.loadConfig, reloadParts)
      : { ok: false as const, problems: ['this gateway was not started from a file'] };
    metrics.reload(result.ok ? 'ok' : 'failed');
    if (result.ok) providers.sync(snapshots.current.config.oidc);
    if (result.ok) logger.info({ restart_needed: result.restartNeeded }, 'config reloaded');
    else logger.error({ problems: result.problems }, 'config reload refused; the running config stays');
    return result;
  };
  const inFlight = new InFlight();
  let background: NodeJS.Timeout | null = null;
  await app.register(authRoutes, {
    authPrefix: config.server.auth_prefix,
    inFlight,
    deps: {
      clock,
      sessions,
      login,
      setup,
      claims,
      freshness,
      audit,
      csrfKey: new SigningKey(deps.secret, 'csrf'),
      deviceKey: new SigningKey(deps.secret, 'device'),
      proofKey: new SigningKey(deps.secret, 'password-proof'),
      recentProofKey: new SigningKey(deps.secret, 'recent-proof'),
      flashSealer: new Sealer(deps.secret, 'token-flash'),
      accounts,
      emailFlows,
      firstPassword: new FirstPassword({ store, clock, audit }),
      mailThrottle: new MailThrottle(store, clock),
      oidc: { providers, login: oidcLogin, starts: new MemoryThrottle(clock, START_POLICY) },
      jwks: () => assertions.jwks,
      availability: new StoreAvailability(store),
      signInMetric: (method, outcome) => metrics.signIn(method, outcome),
      secondFactorMetrics: {
        enrolled: (kind) => metrics.secondFactorEnrolled(kind),
        challenge: (factor, outcome) => metrics.secondFactorChallenge(factor, outcome),
      },
      secondFactors: secondFactors.signIn,
      totp: secondFactors.totp,
      passkeys: secondFactors.passkeys,
      recoveryCodes: secondFactors.recoveryCodes,
      ownFactors: secondFactors.own,
    },
  });
  const gateDeps = {
    modes: { bearer: bearerMode(tokens), local: localMode(sessions), oauth: oauthMode(sessions) },
    claims,
    freshness,
    assertions,
  };
  await app.register(proxyPlugin, gateDeps);
  const tunnels = new TunnelWatch({
    onEnd: (why, err) => logger[err ? 'warn' : 'info']({ err, why }, 'websocket tunnel closed'),
  });
  websocketUpgrades(app.server, snapshots, gateDeps, app.log, tunnels);
  await app.register(forwardAuthRoutes, { authPrefix: config.server.auth_prefix, gate: gateDeps });

  let admin: FastifyInstance | null = null;
  if (config.admin.listen !== '') {
    const adminApp = Fastify(fastifyOptions(logger.child({ listener: 'admin' })));
    installErrorHandling(adminApp);
    adminApp.addHook('onRequest', adminHostGuard(config.admin.hosts));
    await adminApp.register(healthRoutes, { readiness: () => storeReadiness(store) });
    await adminApp.register(metricsRoutes, { metrics });
    await adminApp.register(adminApi, {
      tokens,
      claims,
      freshness,
      accounts,
      audit,
      snapshots,
      reload,
    });
    admin = adminApp;
  }
  const mainConnections = new ListenerConnections(app.server as unknown as HttpServer);
  const adminConnections = admin ? new ListenerConnections(admin.server) : null;

  return {
    app,
    admin,
    snapshots,
    setup,
    reload,
    auditFlushed: () => auditFile?.flushed() ?? Promise.resolve(),
    outbox,
    mailer,
    startBackground() {
      outbox.start();
      keys.start(deps.signingKeys?.refreshMs);
      providers.start();
      const housekeeping = () => {
        const t0 = performance.now();
        purgeStale(store, clock).then(
          (purged) => {
            const ms = Math.round(performance.now() - t0);
            // Quiet when there was nothing to do; otherwise what went and how long it took, for the operator.
            const any = Object.values(purged).some((n) => n > 0);
            (any ? logger.info : logger.debug).call(logger, { purged, ms }, 'housekeeping done');
          },
          (err) => logger.warn({ err, ms: Math.round(performance.now() - t0) }, 'housekeeping failed'),
        );
      };
      background = setTimeout(() => {
        housekeeping();
        background = setInterval(housekeeping, HOUSEKEEPING_INTERVAL_MS);
        background.unref();
      }, HOUSEKEEPING_FIRST_DELAY_MS);
      background.unref();
    },
    async close() {
      if (background) clearTimeout(background);
      tunnels.closeAll();
      providers.stop();
      // Connections that were busy when closing began go idle as their answers finish; keep-alive would
      // hold them (and the shutdown) open for a minute, so idle ones are closed as they appear.
      const sweep = setInterval(() => {
        mainConnections.sweep();
        adminConnections?.sweep();
      }, 100);
      await Promise.allSettled([app.close(), admin?.close()]);
      clearInterval(sweep);
      // Handlers whose client hung up still run (a sign-in mid-argon2): let them finish with the store open.
      await inFlight.drained();
      await outbox.stop();
      await keys.stop();
      await mailer.close();
      await auditFile?.flushed();
    },
  };
}
