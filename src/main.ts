// `hero-gateway serve`: load the config, open the store, build the gateway, listen; shut down gracefully.

import cluster from 'node:cluster';
import { openStore } from './adapters/open-store.ts';
import { buildGateway } from './app.ts';
import { runPrimary } from './cluster.ts';
import { parseListen } from './config/listen.ts';
import { ConfigError, loadConfigFile } from './config/load.ts';
import { ensureSecret } from './config/secret.ts';
import { watchConfig } from './config/watch.ts';
import { createLogger } from './logger.ts';
import { systemClock } from './ports/clock.ts';

/** How long accepted requests get to finish after SIGTERM. */
const SHUTDOWN_DEADLINE_MS = 25_000;

export interface RunningGateway {
  url: string;
  adminUrl: string | null;
  stop(): Promise<void>;
}

export async function serve(file: string, opts: { onSignal?: boolean } = {}): Promise<RunningGateway> {
  const loaded = loadConfigFile(file);
  if (!loaded.ok) throw new ConfigError(loaded.problems);
  const config = loaded.config;
  const logger = createLogger(config.server.log_level);
  if (config.server.workers > 1 && cluster.isPrimary) {
    const primary = await runPrimary(config, logger);
    const main = parseListen(config.server.listen);
    return {
      url: `http://${main.host}:${main.port}`,
      adminUrl: config.admin.listen || null,
      stop: primary.stop,
    };
  }
  const secret = ensureSecret(config);
  if (secret.generated) logger.info({ dir: config.server.data_dir }, 'generated a server secret');
  if (secret.warning) logger.warn(secret.warning);
  const store = openStore(config.store.url, systemClock);
  await store.ready();
  const gw = await buildGateway({
    config,
    store,
    clock: systemClock,
    logger,
    secret: secret.secret,
    loadConfig: () => loadConfigFile(file),
  });

  const main = parseListen(config.server.listen);
  const url = await gw.app.listen({ host: main.host, port: main.port });
  let adminUrl: string | null = null;
  if (gw.admin && config.admin.listen) {
    const a = parseListen(config.admin.listen);
    adminUrl = await gw.admin.listen({ host: a.host, port: a.port });
  }
  const routes = config.route.length;
  logger.info(
    { url, admin: adminUrl, routes, public_url: config.server.public_url },
    'hero-gateway is listening',
  );
  if (routes === 0) logger.warn('no routes are configured: every request will get 404');
  gw.startBackground();
  if (!config.mail.smtp_url)
    logger.warn('mail.smtp_url is not set: mails are printed to the console (development only)');
  // With several workers only the first one prints the setup link (a second would void the first's).
  const setupToken = (process.env.HERO_WORKER_INDEX ?? '0') === '0' ? await gw.setup.issueIfNeeded() : null;
  if (setupToken) {
    // The one place the token exists in plain text: the operator's console, once.
    const link = `${config.server.public_url.replace(/\/$/, '')}${config.server.auth_prefix}/setup?token=${setupToken}`;
    logger.warn('no user exists yet: open the setup link to create the first administrator');
    process.stderr.write(`\n  First-run setup (valid 24 hours, once):\n  ${link}\n\n`);
  }

  // Reload: SIGHUP, and any change of the file's content. Both go through the same validated, atomic swap.
  const unwatch = watchConfig(file, () => gw.reload());
  const onHup = () => gw.reload();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down: no new connections; in-flight requests finish');
      unwatch();
      process.off('SIGHUP', onHup);
      // Stop accepting, let accepted requests finish, flush the audit log and the mail sender; then the store.
      await gw.close();
      await store.close();
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
