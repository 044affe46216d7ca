#!/bin/sh
//bin/sh -c :; exec node -- "$0" "$@"
// The bin: image-audit [options] <target>.
// It starts as a shell script whose one line re-runs this file as `node -- main.js ARGS`: Node 20 reads
// --env-file anywhere in its arguments, even after the script (`image-audit . --env-file x.env` would
// load x.env into our own environment, or end with "node: x.env: not found"), but never after `--`.
// `#!/usr/bin/env -S node --` would do the same where env has -S, which BusyBox's (Alpine) has not.
// Line 2 is a comment to Node; to sh, `//bin/sh -c :` is a no-op before the exec.
import { runCli } from './run.js';

await runCli(process.argv);
