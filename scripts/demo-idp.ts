// `npm start`'s own OpenID provider: the tests' provider (npm oidc-provider, development sign-in pages), set up
// from the demo's config file (its [[oidc]] "demo" entry: issuer port, client id and secret; and the gateway's
// public_url for the redirect URIs), so it always matches the file the gateway serves. Any name signs in, with any
// password. Prints "demo identity provider listening on ISSUER" on stderr once it answers.

import { gatewayClient, startIdp } from '../test/helpers/idp.ts';
import { readDemoConfig } from './demo/config.ts';

const file = process.argv[2] ?? 'hero-gateway.toml';
try {
  const demo = readDemoConfig(file);
  if (!demo?.provider || !demo.ports.idp)
    throw new Error(`${file} has no [[oidc]] "demo" on a loopback issuer`);
  const client = gatewayClient(demo.publicUrl, 'demo', {
    client_id: demo.provider.clientId,
    client_secret: demo.provider.clientSecret,
  });
  const idp = await startIdp({ port: demo.ports.idp });
  await idp.configure([client], { anyName: true, idTokenHasClaims: true });
  process.stderr.write(`demo identity provider listening on ${idp.issuer}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => idp.close().then(() => process.exit(0)));
} catch (err) {
  // One line, as the gateway's own command does: the demo shows it instead of a stack trace.
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(2);
}
