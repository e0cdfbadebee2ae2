// A mail server that accepts the envelope and then never answers: the outbox sends a few mails at once, gives
// each attempt a deadline, and leases a mail only briefly, so one hanging mail (or a dead sender) never holds the
// others, and once a working server is back every queued mail reaches it, exactly once.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createUser } from '../../src/services/users.ts';
import { BrowserClient } from '../helpers/browser-client.ts';
import { startGateway, TestClock, tempDir } from '../helpers/gateway.ts';
import { startInstance, writeInstanceConfig } from '../helpers/instance.ts';
import { startServe } from '../helpers/serve.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { until } from '../helpers/until.ts';

const SECRET = 'a-deployment-secret-shared-by-every-instance-0123456789';

interface HangingSmtp {
  url: string;
  port: number;
  /** Mails whose DATA it took and will never answer. */
  hung: number;
  /** Recipients of the mails it accepted. */
  accepted: string[];
  /** Connections open now. */
  open(): number;
  /** Destroys every connection (no goodbye), then stops listening. */
  close(): Promise<void>;
}

/** Takes the envelope of every mail, then hangs the DATA of those to a recipient `hangs` picks; accepts the rest. */
async function hangingSmtp(hangs: (rcpt: string) => boolean = () => true): Promise<HangingSmtp> {
  const sockets = new Set<Socket>();
  const accepted: string[] = [];
  let hung = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 100,
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address);
      stream.on('error', () => {});
      stream.resume();
      if (to.some(hangs)) {
        hung++;
        return; // the message is read, and never answered
      }
      stream.on('end', () => {
        accepted.push(...to);
        callback();
      });
    },
  });
  server.on('error', () => {});
  server.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    get hung() {
      return hung;
    },
    accepted,
    open: () => sockets.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const forgot = (url: string, who: string) =>
  new BrowserClient(url).submit('/auth/forgot', '/auth/forgot', { identifier: who });

describe('mail to a server that accepts and then hangs', { concurrency: true }, () => {
  test('one hanging mail does not hold the others: they go out over other connections at once', async (t) => {
    const server = await hangingSmtp((rcpt) => rcpt === 'slow@example.com');
    const gw = await startGateway(`[mail]\nsmtp_url = "${server.url}"\n`);
    try {
      const names = ['slow', 'ann', 'bob', 'cid', 'dee', 'eve'];
      for (const u of names)
        await createUser(gw.store, { username: u, email: `${u}@example.com`, emailVerified: true });
      await forgot(gw.url, 'slow');
      await until(() => server.hung === 1, { what: 'the slow mail hanging', timeoutMs: 5_000 });
      const t0 = performance.now();
      for (const u of names.slice(1)) await forgot(gw.url, u);
      await until(() => server.accepted.length === 5, {
        what: 'the five other mails, while the first one hangs',
        timeoutMs: 5_000,
      });
      t.diagnostic(`the other five arrived ${Math.round(performance.now() - t0)} ms after being queued`);
      assert.equal(server.hung, 1, 'still hanging meanwhile');
      assert.deepEqual(
        server.accepted.sort(),
        ['ann', 'bob', 'cid', 'dee', 'eve'].map((u) => `${u}@example.com`),
      );
    } finally {
      await server.close();
      await gw.close();
    }
  });

  test('20 queued mails reach a working server within 60 s of it coming back, exactly once each', async (t) => {
    const hanging = await hangingSmtp();
    const gw = await startGateway(`[mail]\nsmtp_url = "${hanging.url}"\n`);
    let working: Awaited<ReturnType<typeof startSmtp>> | undefined;
    try {
      const names = Array.from({ length: 20 }, (_, i) => `user${i}`);
      for (const u of names)
        await createUser(gw.store, { username: u, email: `${u}@example.com`, emailVerified: true });
      const started = performance.now();
      for (const u of names) await forgot(gw.url, u);
      // Phase 1: a few at a time, each given up when the server stays silent (30 s); the next round under way.
      await until(() => hanging.hung >= 5, { what: 'a second round of attempts', timeoutMs: 45_000 });
      t.diagnostic(`5 attempts reached the hanging server in ${Math.round(performance.now() - started)} ms`);
      // The connections of the abandoned attempts are closed: only the ones in flight stay open.
      await until(() => hanging.open() <= 4, { what: 'abandoned connections closed', timeoutMs: 10_000 });
      assert.equal(await gw.gateway.outbox.depth(), 20, 'nothing counted as sent');

      // Phase 2: the hanging server dies with its connections; a working one takes its port.
      await hanging.close();
      working = await startSmtp({ port: hanging.port });
      const back = performance.now();
      const smtp = working;
      await until(() => new Set(smtp.mails.flatMap((m) => m.to)).size === 20, {
        what: 'all 20 mails at the working server',
        timeoutMs: 60_000,
        intervalMs: 50,
      });
      t.diagnostic(`all 20 arrived ${Math.round(performance.now() - back)} ms after the server came back`);
      // Kept on purpose: nothing may happen now, so there is nothing to await. Several polls of the sender
      // (1 s each) must pass without a second copy of any mail.
      await new Promise((r) => setTimeout(r, 3_000));
      for (const u of names)
        assert.equal(smtp.mails.filter((m) => m.to.includes(`${u}@example.com`)).length, 1, u);
      assert.equal(smtp.mails.length, 20);
      assert.equal(await gw.gateway.outbox.depth(), 0);
    } finally {
      await hanging.close();
      await working?.close();
      await gw.close();
    }
  });

  test('a server slow to answer the end of the message (20 s, a content filter) gets one copy', async () => {
    const stored: string[] = [];
    const slow = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          // Delivered the moment the message is in; the answer comes only after the filter has run.
          stored.push(...session.envelope.rcptTo.map((r) => r.address));
          setTimeout(() => callback(), 20_000);
        });
      },
    });
    slow.on('error', () => {});
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const { port } = slow.server.address() as AddressInfo;
    const gw = await startGateway(`[mail]\nsmtp_url = "smtp://127.0.0.1:${port}"\n`);
    try {
      await createUser(gw.store, { username: 'fay', email: 'fay@example.com', emailVerified: true });
      await forgot(gw.url, 'fay');
      await until(async () => (await gw.gateway.outbox.depth()) === 0, {
        what: 'the mail marked sent',
        timeoutMs: 40_000,
      });
      assert.deepEqual(stored, ['fay@example.com'], 'one copy, not one per attempt given up on');
    } finally {
      await gw.close();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  test('a mail claimed by a sender that died is sent by another within the short lease', async (t) => {
    const hanging = await hangingSmtp();
    const working = await startSmtp();
    const dir = tempDir();
    const storeUrl = `sqlite:${join(dir, 'gw.db')}`;
    const mail = (url: string) => `[accounts]\nregistration = "open"\n[mail]\nsmtp_url = "${url}"\n`;
    const doomed = await startServe(
      writeInstanceConfig(join(dir, 'doomed'), { storeUrl, secret: SECRET, toml: mail(hanging.url) }),
    );
    let other: Awaited<ReturnType<typeof startInstance>> | undefined;
    try {
      await new BrowserClient(doomed.url).submit('/auth/magic-link', '/auth/magic-link', {
        identifier: 'nia@example.com',
      });
      await until(() => hanging.hung === 1, { what: 'the doomed sender sending', timeoutMs: 10_000 });
      const claimed = performance.now();
      await doomed.stop('SIGKILL');
      other = await startInstance({ storeUrl, secret: SECRET, toml: mail(working.url) });
      const arrived = await working.waitForMail((m) => m.to.includes('nia@example.com'), 45_000);
      const after = performance.now() - claimed;
      t.diagnostic(`sent by the other sender ${Math.round(after)} ms after the dead one claimed it`);
      assert.match(arrived.subject, /sign/i);
      assert.ok(after < 36_000, `within the 30 s lease and a poll, not ${Math.round(after)} ms`);
      await new Promise((r) => setTimeout(r, 1_500)); // a poll more: no second copy
      assert.equal(working.mails.length, 1);
    } finally {
      await doomed.stop('SIGKILL');
      await other?.close();
      await hanging.close();
      await working.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('after a long outage a mail is tried again within 30 s, not an hour later', async () => {
    const clock = new TestClock();
    const smtp = await startSmtp();
    await smtp.stop();
    const gw = await startGateway(`[mail]\nsmtp_url = "${smtp.url}"\n`, { clock });
    try {
      await createUser(gw.store, { username: 'olga', email: 'olga@example.com', emailVerified: true });
      await forgot(gw.url, 'olga');
      // Hours of refused connections: ten failed attempts, an hour apart.
      for (let i = 0; i < 10; i++) {
        clock.advance(3_600_000);
        await gw.gateway.outbox.runOnce();
      }
      assert.equal(await gw.gateway.outbox.depth(), 1);
      await smtp.start();
      clock.advance(30_000);
      await gw.gateway.outbox.runOnce();
      const mail = await smtp.waitForMail((m) => m.to.includes('olga@example.com'), 5_000);
      assert.match(mail.subject, /Reset/);
    } finally {
      await gw.close();
      await smtp.close();
    }
  });
});
