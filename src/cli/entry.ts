// The whole CLI as the bin runs it: scripts/build.mjs bundles this file into dist/cli/cli.cjs, which
// ./main.ts runs through V8's code cache. Importing it runs the CLI.
import http from 'node:http';
import { runCli } from './run.js';

// A TLS server name for plain HTTP requests (every Engine API call over a socket or tcp://) means
// nothing, but Node computes one per request unless one is set, and the first computation compiles its
// IPv6 regex: ~9 ms before the audit's first call (measured). Set here, in the CLI's own process only:
// the library leaves the global agent of its host process alone. (docker-modem formats its request
// options with util.inspect on every call, so an agent of our own in them would cost far more.)
(http.globalAgent as http.Agent & { options: { servername?: string } }).options.servername = '';

void runCli(process.argv);
