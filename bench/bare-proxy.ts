// The baseline: a bare @fastify/http-proxy with no logging, in its own process like every other proxy in the
// comparison. Prints its port on stdout once it listens. Usage: node --import tsx bench/bare-proxy.ts UPSTREAM
import httpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { UNDICI } from './processes.ts';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.ts UPSTREAM_URL');
const bare = Fastify({ logger: false });
// Same upstream connection settings as the gateway's proxy, for a like-for-like comparison.
await bare.register(httpProxy, { upstream, undici: UNDICI });
const url = await bare.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`bare proxy listening on ${url}\n`);
process.once('SIGTERM', () => void bare.close().then(() => process.exit(0)));
