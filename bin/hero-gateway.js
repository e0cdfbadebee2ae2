#!/usr/bin/env node
// Entry for the `hero-gateway` command: runs the TypeScript sources directly (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
