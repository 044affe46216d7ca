#!/usr/bin/env node
// The bin: image-audit [options] <target>. A plain Node shebang, the one form every platform runs: npm's
// Windows shims (.cmd, .ps1, written by cmd-shim from this first line) start node, as /usr/bin/env
// does on Linux, macOS and BusyBox (Alpine). `#!/bin/sh` trampolines break the Windows shims, and
// `#!/usr/bin/env -S node --` breaks BusyBox's env, which has no -S.
// The price: Node reads `--env-file F` even after the script's name, before this file runs (see
// ./node-env-file.ts for what it does and does not do with F).
// What it runs: the whole CLI (./entry.ts), which the build bundles as dist/cli/cli.cjs, from V8's code
// cache (./code-cache.ts says why and how). The build bundles this file too, as the bin dist/cli/main.cjs
// (scripts/build.mjs says why CommonJS); tsc's dist/cli/main.js is the same as an ES module.
import { fileURLToPath } from 'node:url';
import { runWithCodeCache } from './code-cache.js';

runWithCodeCache(fileURLToPath(new URL('./cli.cjs', import.meta.url)));
