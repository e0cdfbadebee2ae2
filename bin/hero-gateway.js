#!/usr/bin/env node
// Entry for the `hero-gateway` command: runs the TypeScript sources directly (no build step).
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// V8's allocation-site pretenuring decides, from a few samples taken at some garbage collection, that objects
// made at one place in the code live long and allocates them in the old generation from then on. Depending on
// what was in flight when that sample was taken (start-up work overlapping the first requests), it picks
// per-request objects, and then every request's objects are promoted and freed only by full collections: about
// 1.7x the CPU per request for the life of the process, in roughly a third of starts. The gateway's long-lived
// objects are made once at start, so nothing is lost without it. Set before any module of ours loads, and
// inherited by every worker (they run this file too).
setFlagsFromString('--no-allocation-site-pretenuring');
register();
await import('../src/cli/main.ts');
