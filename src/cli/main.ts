#!/usr/bin/env node
// The bin: image-audit [options] <target>.
import { runCli } from './run.js';

await runCli(process.argv);
