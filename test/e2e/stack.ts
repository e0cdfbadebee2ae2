// A real upstream behind a real gateway with one `local` route and one user, as a browser would meet them.

import { hashPassword } from '../../src/crypto/password.ts';
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

export async function startStack(opts: { clock?: Clock } = {}): Promise<Stack> {
  const up = await startUpstream();
  // public_url stays at its default (http://localhost:8080): its host being localhost is what makes the
  // cookies Secure, and the port is only known after listen.
  const gw = await startGateway(
    `
[[route]]
name = "app"
path = "/"
upstream = "${up.url}"
auth = "local"
`,
    opts.clock ? { clock: opts.clock } : {},
  );
  await createUser(gw.store, {
    username: ALICE.username,
    email: ALICE.email,
    emailVerified: true,
    passwordHash: await hashPassword(ALICE.password),
  });
  return {
    up,
    gw,
    base: `http://localhost:${gw.port}`,
    async close() {
      await gw.close();
      await up.close();
    },
  };
}
