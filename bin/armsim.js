#!/usr/bin/env node
// Thin launcher: the command is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import { main } from '../dist/src/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
