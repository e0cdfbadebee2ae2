// `npm start`'s own OpenID provider: the tests' provider (npm oidc-provider, development sign-in pages) on
// 127.0.0.1:9000 (a fixed issuer, so identities made in one demo run still match in the next), registered for the demo gateway on http://localhost:8080 as provider "demo". Any name signs
// in, with any password. Prints one JSON line {issuer, clientId, clientSecret} once it answers.
import { gatewayClient, startIdp } from '../test/helpers/idp.ts';

const client = gatewayClient('http://localhost:8080', 'demo');
const idp = await startIdp({ port: 9000 });
await idp.configure([client], { anyName: true, idTokenHasClaims: true });
console.log(
  JSON.stringify({ issuer: idp.issuer, clientId: client.client_id, clientSecret: client.client_secret }),
);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => idp.close().then(() => process.exit(0)));
