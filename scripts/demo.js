#!/usr/bin/env node
// `npm start`: the demo (scripts/demo/main.ts), run from the TypeScript sources as the hero-gateway command is.
import { register } from 'tsx/esm/api';

register();
await import('./demo/main.ts');
