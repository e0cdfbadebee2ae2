// `hero-gateway serve`: load the config, open the store, build the gateway, listen; shut down gracefully. A
// start that fails closes what it opened and throws one clear error (the CLI prints it as one line).

import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { openConfiguredStore } from './adapters/open-store.ts';
import { buildGateway, type Gateway } from './app.ts';
import { reportReady, reportStartFailure, runPrimary } from './cluster.ts';
import { parseListen } from './config/listen.ts';
import { type Config, ConfigError, loadConfigFile } from './config/load.ts';
import { plainHttpWarning } from './config/plain-http.ts';
import { ensureSecret } from './config/secret.ts';
import { watchFiles } from './config/watch.ts';
import { httpsRedirectServer } from './http/https-redirect.ts';
import { tlsFiles } from './http/tls.ts';
import { createLogger, flushLogger, flushLoggerOnCrash, type Logger } from './logger.ts';
import { systemClock } from './ports/clock.ts';

/** How long accepted requests get to finish after SIGTERM. */
const SHUTDOWN_DEADLINE_MS = 25_000;

export interface RunningGateway {
  url: string;
  adminUrl: string | null;
  stop(): Promise<void>;
}

/** Listens, or throws one line naming the setting, the address and what went wrong (code kept for the CLI). */
async function listenOn(
  setting: string,
  address: string,
  listen: (host: string, port: number) => Promise<string>,
) {
  const { host, port } = parseListen(address);
  try {
    return await listen(host, port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE'
        ? 'address already in use'
        : e.code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : e.code === 'EADDRNOTAVAIL'
            ? 'this machine has no such address'
            : e.message;
    throw Object.assign(new Error(`${setting} ${address}: ${why}`), e.code ? { code: e.code } : {});
  }
}

function listenHttp(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // The port it got, not the one asked for: port 0 means "any free port", and the log must say which.
      const bound = (server.address() as { port: number } | null)?.port ?? port;
      resolve(`http://${host.includes(':') ? `[${host}]` : host}:${bound}`);
    });
  });
}

function loadOrThrow(file: string): Config {
  const loaded = loadConfigFile(file);
  if (!loaded.ok) throw new ConfigError(loaded.problems);
  return loaded.config;
}

function closeHttp(server: Server | null): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function serve(
  file: string,
  opts: {
    onSignal?: boolean;
    /** The file's config when the caller already read it (the CLI does, to report a broken file). */
    config?: Config;
  } = {},
): Promise<RunningGateway> {
  const config = opts.config ?? loadOrThrow(file);
  const logger = createLogger(config.server.log_level);
  // The log is written asynchronously: a crash writes out what is still buffered (a process-wide hook, so
  // only when this gateway owns the process).
  if (opts.onSignal !== false) flushLoggerOnCrash(logger);
  // Once per gateway: workers are not the primary.
  if (cluster.isPrimary) {
    const plain = plainHttpWarning(config.server.public_url);
    if (plain) logger.warn(plain);
  }
  if (config.server.workers > 1 && cluster.isPrimary) {
    const primary = await runPrimary(config, logger);
    return { url: primary.url, adminUrl: primary.adminUrl, stop: primary.stop };
  }
  try {
    const running = await startServing(file, config, logger, opts);
    reportReady({ url: running.url, adminUrl: running.adminUrl });
    return running;
  } catch (err) {
    if (cluster.isWorker) return reportStartFailure(err);
    throw err;
  }
}

async function startServing(
  file: string,
  config: Config,
  logger: Logger,
  opts: { onSignal?: boolean },
): Promise<RunningGateway> {
  const secret = ensureSecret(config);
  if (secret.generated) logger.info({ dir: config.server.data_dir }, 'generated a server secret');
  if (secret.warning) logger.warn(secret.warning);
  const store = await openConfiguredStore(config.store.url, systemClock, {
    // While the listener is lost this instance trusts no cached identity and reads the store on every request:
    // correct, but slower, and the operator should know.
    onListenerState: (state, err) =>
      state === 'lost'
        ? logger.warn(
            { err },
            'store change listener lost: reading the store on every request until it is back',
          )
        : logger.info('store change listener listening'),
  });
  let gw: Gateway | null = null;
  let redirect: Server | null = null;
  let url: string;
  let adminUrl: string | null = null;
  let redirectUrl: string | null = null;
  try {
    await store.ready();
    const built = await buildGateway({
      config,
      store,
      clock: systemClock,
      logger,
      secret: secret.secret,
      loadConfig: () => loadConfigFile(file),
    });
    gw = built;
    url = await listenOn('server.listen', config.server.listen, (host, port) =>
      built.app.listen({ host, port }),
    );
    const admin = built.admin;
    if (admin && config.admin.listen)
      adminUrl = await listenOn('admin.listen', config.admin.listen, (host, port) =>
        admin.listen({ host, port }),
      );
    if (config.server.http_redirect) {
      const server = httpsRedirectServer(built.snapshots);
      redirect = server;
      redirectUrl = await listenOn('server.http_redirect', config.server.http_redirect, (host, port) =>
        listenHttp(server, host, port),
      );
    }
  } catch (err) {
    // Whatever did open is closed again, so the process can exit with the error instead of hanging on a socket.
    await Promise.allSettled([closeHttp(redirect), gw?.close()]);
    await store.close().catch(() => {});
    throw err;
  }
  const gateway = gw;
  const routes = config.route.length;
  logger.info(
    { url, admin: adminUrl, http_redirect: redirectUrl, routes, public_url: config.server.public_url },
    'hero-gateway is listening',
  );
  if (routes === 0) logger.warn('no routes are configured: every request will get 404');
  gateway.startBackground();
  if (!config.mail.smtp_url)
    logger.warn('mail.smtp_url is not set: mails are printed to the console (development only)');
  // With several workers only the first one prints the setup link (every worker would print the same one).
  const setup = (process.env.HERO_WORKER_INDEX ?? '0') === '0' ? await gateway.setup.issueIfNeeded() : null;
  if (setup) {
    // The one place the token exists in plain text: the operator's console.
    const link = `${config.server.public_url.replace(/\/$/, '')}${config.server.auth_prefix}/setup?token=${setup.token}`;
    const until = new Date(setup.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    logger.warn('no user exists yet: open the setup link to create the first administrator');
    process.stderr.write(`\n  First-run setup (valid until ${until}, once):\n  ${link}\n\n`);
  }
  // Supervisors and operators wait for the start-up lines: they do not wait in the buffer.
  void flushLogger(logger);

  // Reload: SIGHUP, and any change of the config file's content or of the TLS files (renewal tools rewrite
  // them). All go through the same validated, atomic swap.
  const watched = () => [file, ...tlsFiles(gateway.snapshots.current.config)];
  let watching = watched();
  let unwatch = watchFiles(watching, () => onHup());
  const onHup = () => {
    gateway.reload();
    // A reload may name other certificate files: watch those from now on.
    const next = watched();
    if (next.join('\n') === watching.join('\n')) return;
    unwatch();
    watching = next;
    unwatch = watchFiles(watching, () => onHup());
  };

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down: no new connections; in-flight requests finish');
      unwatch();
      process.off('SIGHUP', onHup);
      // Stop accepting, let accepted requests finish, flush the audit log and the mail sender; then the store.
      await Promise.all([gateway.close(), closeHttp(redirect)]);
      await store.close();
      // The last access lines are still in the log's buffer.
      await flushLogger(logger);
    })();
    return stopping;
  };
  if (opts.onSignal !== false) {
    process.on('SIGHUP', onHup);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        // A request that never ends must not keep the process alive for ever.
        const deadline = setTimeout(() => {
          logger.error(`requests still running after ${SHUTDOWN_DEADLINE_MS / 1000}s; exiting anyway`);
          process.exit(1);
        }, SHUTDOWN_DEADLINE_MS);
        deadline.unref();
        stop().then(
          () => process.exit(0),
          (err) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(2);
          },
        );
      });
    }
  }
  return { url, adminUrl, stop };
}
