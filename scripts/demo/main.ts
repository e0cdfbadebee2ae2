// `npm start`: the demo. One config file, hero-gateway.toml (HERO_DEMO_CONFIG), made from config.example.toml on
// the first run and served as it is from then on: the gateway reloads it on every save. Starts the whoami app,
// the demo identity provider and the gateway on the ports that file names, and prints what to open once all three
// really answer. A start that fails is one line and a non-zero exit, with every other process stopped.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { banner } from './banner.ts';
import { type DemoChild, startChild } from './children.ts';
import { createDemoConfig, type DemoConfig, type DemoPorts, readDemoConfig } from './config.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/hero-gateway.js');
/** The password of the demo's user, printed in the banner (created once; the store lives in data_dir). */
const DEMO_PASSWORD = 'try the gateway 2026';
/** How long the three processes get to start listening. */
const START_DEADLINE_MS = 90_000;

const PORT_VARS: Record<keyof DemoPorts, [name: string, fallback: number]> = {
  gateway: ['HERO_DEMO_PORT', 8080],
  admin: ['HERO_DEMO_ADMIN_PORT', 8081],
  app: ['HERO_DEMO_APP_PORT', 3000],
  idp: ['HERO_DEMO_IDP_PORT', 9000],
};

type PortsInFile = Record<keyof DemoPorts, number | null>;

class DemoError extends Error {}

function fail(message: string): never {
  throw new DemoError(message);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The ports asked for in the environment (unset: the default; 0: any free port), for a new config file. */
async function portsFromEnv(): Promise<DemoPorts> {
  const ports = {} as DemoPorts;
  for (const [key, [name, fallback]] of Object.entries(PORT_VARS) as [keyof DemoPorts, [string, number]][]) {
    const raw = process.env[name];
    const port = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      fail(`${name} must be a port number (0: any free port)`);
    ports[key] = port === 0 ? await freePort() : port;
  }
  return ports;
}

/** An existing file decides the ports: a port variable that says otherwise would be silently ignored, so refuse. */
function checkEnvAgrees(file: string, ports: PortsInFile): void {
  for (const [key, [name]] of Object.entries(PORT_VARS) as [keyof DemoPorts, [string, number]][]) {
    const raw = process.env[name];
    if (!raw || raw === '0' || ports[key] === null || Number(raw) === ports[key]) continue;
    fail(
      `${name}=${raw}, but ${file} (made by an earlier run) says ${ports[key]} — the port variables only shape a new file: change the port in the file, or delete it`,
    );
  }
}

function cli(config: string, args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, ...args, '-c', config], {
    cwd: root,
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
  });
}

/** The line for a process that did not start: a busy port says which variable, or which file, moves it. */
function startFailure(
  name: string,
  reason: string,
  ports: PortsInFile,
  fresh: boolean,
  file: string,
): string {
  // Node says "listen EADDRINUSE: address already in use 127.0.0.1:8080"; the gateway may word it its own way.
  if (!/EADDRINUSE|address already in use/i.test(reason)) return `${name} did not start: ${reason}`;
  const named = [...reason.matchAll(/:(\d+)\b/g)].map((m) => Number(m[1]));
  const keys = Object.keys(ports) as (keyof DemoPorts)[];
  const port = named.find((p) => keys.some((k) => ports[k] === p)) ?? named[0];
  if (port === undefined) return `${name} did not start: ${reason}`;
  const key = keys.find((k) => ports[k] === port);
  const move = fresh && key ? `set ${PORT_VARS[key][0]}` : `change it in ${file}`;
  return `port ${port} is in use — stop the other process or ${move}`;
}

/** Starts `child` and waits until it listens; its failure becomes the demo's one line. */
async function started(child: DemoChild, why: (reason: string) => string): Promise<string> {
  try {
    return await child.ready;
  } catch (err) {
    throw new DemoError(why((err as Error).message));
  }
}

async function main(): Promise<number> {
  const file = resolve(process.env.HERO_DEMO_CONFIG || join(root, 'hero-gateway.toml'));
  const near = relative(process.cwd(), file);
  const shown = near && !near.startsWith('..') ? near : file;
  const fresh = !existsSync(file) && createDemoConfig(file, await portsFromEnv());

  const children: DemoChild[] = [];
  let stopping = false;
  const stopAll = () => Promise.all(children.map((c) => c.stop()));
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      stopping = true;
      void stopAll();
    });

  let gatewayUrl: string;
  let demo: DemoConfig;
  try {
    try {
      demo = readDemoConfig(file) as DemoConfig;
    } catch (err) {
      fail(`${shown}: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!fresh) checkEnvAgrees(shown, demo.ports);
    const check = cli(file, ['check']);
    if (check.status !== 0) fail(check.stderr.trim().replace(/^error:\s*/, ''));
    if (!/^demo\s/m.test(cli(file, ['user', 'list']).stdout ?? '')) {
      const add = cli(
        file,
        ['user', 'add', 'demo', '--email', 'demo@example.com', '--password-stdin'],
        DEMO_PASSWORD,
      );
      if (add.status !== 0)
        fail(`could not create the demo user: ${add.stderr.trim().replace(/^error:\s*/, '')}`);
    }

    const why = (name: string) => (reason: string) => startFailure(name, reason, demo.ports, fresh, shown);
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new DemoError(`not everything listened within ${START_DEADLINE_MS / 1000}s`)),
        START_DEADLINE_MS,
      ).unref(),
    );
    // The app and the provider first: the gateway then finds its provider at once instead of retrying.
    const first: Promise<string>[] = [];
    if (demo.ports.app !== null) {
      const app = startChild(
        'the whoami app',
        [bin, 'whoami-upstream', '--listen', `127.0.0.1:${demo.ports.app}`],
        /^whoami-upstream listening on (\S+)/,
        { cwd: root },
      );
      children.push(app);
      first.push(started(app, why('the whoami app')));
    }
    if (demo.ports.idp !== null) {
      const idp = startChild(
        'the demo identity provider',
        ['--import', 'tsx', join(root, 'scripts/demo-idp.ts'), file],
        /^demo identity provider listening on (\S+)/,
        { cwd: root },
      );
      children.push(idp);
      first.push(started(idp, why('the demo identity provider')));
    }
    await Promise.race([Promise.all(first), deadline]);
    const gateway = startChild(
      'the gateway',
      [bin, 'serve', '-c', file],
      /^hero-gateway listening on (\S+)/,
      {
        cwd: root,
      },
    );
    children.push(gateway);
    gatewayUrl = await Promise.race([started(gateway, why('the gateway')), deadline]);
  } catch (err) {
    await stopAll();
    if (stopping) return 0; // stopped while starting: nothing went wrong
    if (fresh) rmSync(file, { force: true }); // a file that never ran is not kept: the next run makes it anew
    throw err;
  }
  if (stopping) return 0;

  for (const c of children) c.release();
  process.stdout.write(
    banner({
      publicUrl: demo.publicUrl,
      gatewayUrl,
      adminUrl: demo.ports.admin === null ? null : `http://127.0.0.1:${demo.ports.admin}`,
      file: shown,
      configFlag: file === resolve('hero-gateway.toml') ? '' : ` -c ${shown}`,
      smtpHost: demo.smtpHost,
      sso: demo.ports.idp !== null,
      password: DEMO_PASSWORD,
    }),
  );

  // Any process that ends ends the demo: half a demo would only puzzle. Ctrl-C reaches every process of the
  // terminal's group, so a child may be seen ending (by SIGINT, or cleanly) before the demo's own handler ran.
  const ended = await Promise.race(children.map((c) => c.exited.then((how) => ({ c, ...how }))));
  const asked = stopping || ended.code === 0 || ended.signal === 'SIGINT' || ended.signal === 'SIGTERM';
  stopping = true;
  await stopAll();
  if (asked) return 0;
  process.stderr.write(`error: ${ended.c.name} stopped (exit code ${ended.code}), so the demo stopped\n`);
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // One line, never a stack trace: the demo is the first thing a newcomer runs.
    const message = err instanceof DemoError ? err.message : String((err as Error)?.message ?? err);
    process.stderr.write(`error: ${message}\n`);
    process.exitCode = 1;
  },
);
