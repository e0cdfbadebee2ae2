// A real upstream behind a real gateway with one `local` route and one user, as a browser would meet them;
// optionally with mail to a real SMTP server and open registration.

import { hashPassword } from '../../src/crypto/password.ts';
import { compileSnapshot } from '../../src/http/snapshot.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { createUser } from '../../src/services/users.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

export const ALICE = {
  username: 'alice',
  email: 'alice@example.com',
  password: 'correct horse battery staple',
};

export interface Stack {
  up: Upstream;
  gw: TestGateway;
  /**
   * The origin the browser uses. localhost, not 127.0.0.1: the session cookie is `__Host-` and Secure, which
   * browsers accept over plain http only on localhost.
   */
  base: string;
  close(): Promise<void>;
}

export interface StackOptions {
  clock?: Clock;
  /**
   * Mail through this SMTP server (smtp://…) and open registration. public_url then becomes `base`, so the
   * links in the mails open this very gateway.
   */
  smtpUrl?: string;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const up = await startUpstream();
  const mail = opts.smtpUrl
    ? `
[accounts]
registration = "open"
[mail]
smtp_url = "${opts.smtpUrl}"
`
    : '';
  // public_url starts at its default (http://localhost:8080): its host being localhost is what makes the
  // cookies Secure, and the port is only known after listen.
  const gw = await startGateway(
    `${mail}
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "local"
`,
    opts.clock ? { clock: opts.clock } : {},
  );
  const base = `http://localhost:${gw.port}`;
  if (opts.smtpUrl) {
    // Now that the port is known, public_url becomes `base` the way a config reload would set it: the
    // snapshot is replaced as a whole, and mailed links read public_url when they are made. (gw.config
    // keeps the file's value.)
    const { config } = gw.gateway.snapshots.current;
    gw.gateway.snapshots.current = compileSnapshot({
      ...config,
      server: { ...config.server, public_url: base },
    });
  }
  await createUser(gw.store, {
    username: ALICE.username,
    email: ALICE.email,
    emailVerified: true,
    passwordHash: await hashPassword(ALICE.password),
  });
  return {
    up,
    gw,
    base,
    async close() {
      await gw.close();
      await up.close();
    },
  };
}
