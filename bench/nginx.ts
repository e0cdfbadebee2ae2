// nginx as a peer: one worker, `proxy_pass` to the same upstream with kept-alive upstream connections, no
// access log (like the bare proxy). Skipped, with a note, where nginx is not installed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, log, sleep } from './load.ts';

/** Starts nginx in front of `upstream`; resolves with its URL and a stop function, or null without nginx. */
export async function startNginx(
  upstream: string,
  dir: string,
): Promise<{ url: string; pid: number | undefined; stop: () => Promise<void> } | null> {
  if (spawnSync('nginx', ['-v'], { stdio: 'ignore' }).error) {
    log('nginx is not installed: its row is skipped');
    return null;
  }
  const home = join(dir, 'nginx');
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  const conf = join(home, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off; master_process off; worker_processes 1; pid ${home}/nginx.pid; error_log ${home}/error.log crit;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${home}/body; proxy_temp_path ${home}/proxy; fastcgi_temp_path ${home}/fastcgi;
  uwsgi_temp_path ${home}/uwsgi; scgi_temp_path ${home}/scgi;
  upstream app { server ${new URL(upstream).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', home, '-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      await (await fetch(url)).arrayBuffer();
      break;
    } catch (err) {
      if (i > 100) {
        child.kill();
        throw new Error(`nginx did not come up: ${String(err)}`);
      }
      await sleep(50);
    }
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
