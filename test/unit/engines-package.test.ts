// engines-node, the package.json side: read through a UTF-8 byte-order mark; a file that cannot be read
// or parsed is "not observed" (an error naming the file and why), never "declares no engines.node".
import { observed } from '../../src/observed.js';
import { describe, expect, it } from 'vitest';
import type { CheckInput, ObserveContext } from '../../src/checks/check.js';
import { declaredEngines, enginesNode, type EnginesObservation } from '../../src/checks/engines-node.js';
import type { DockerPort } from '../../src/docker/port.js';
import { analyseCommand } from '../../src/facts/command.js';
import type { ImageBasics } from '../../src/facts/image-facts.js';
import type { LifecycleObservation } from '../../src/lifecycle/observe.js';

const DAEMON = 'Error response from daemon: an unexpected failure';
const basics = { image: { config: { workingDir: '/app' } }, command: analyseCommand([], ['node', 'server.js']) } as unknown as ImageBasics;

/** Runs the check's own observation over an image's files (path → text; `null`: reading it fails). */
async function observeFiles(files: Record<string, string | null>): Promise<EnginesObservation> {
  const docker = {
    async readFile(_id: string, p: string) {
      if (files[p] === null) throw new Error(DAEMON);
      return files[p] === undefined ? undefined : Buffer.from(files[p]!);
    },
  } as unknown as DockerPort;
  const ctx = { docker, basics, filesContainer: async () => 'c', signal: new AbortController().signal } as unknown as ObserveContext;
  return (await enginesNode.observe!(ctx)) as EnginesObservation;
}

const judge = async (files: Record<string, string | null>) => declaredEngines(await observeFiles(files), '/app', '/app');

describe('engines-node: the package.json side', () => {
  it('reads engines.node through a UTF-8 byte-order mark', async () => {
    expect(await judge({ '/app/package.json': '\ufeff{ "name": "app", "engines": { "node": ">=22" } }' })).toEqual({ path: '/app/package.json', enginesNode: '>=22' });
  });
  it('is an error naming the file and the parse error when the package.json is not JSON', async () => {
    const v = await judge({ '/app/package.json': '{ "engines": { "node": ">=22" }, }' });
    expect(v).toMatchObject({ status: 'error', message: expect.stringMatching(/^could not read engines\.node: \/app\/package\.json is not valid JSON: /) });
    expect(v).toMatchObject({ evidence: { packageJson: '/app/package.json', notObserved: expect.stringMatching(/^\/app\/package\.json is not valid JSON/) } });
  });
  it('is an error when its JSON is not an object', async () => {
    expect(await judge({ '/app/package.json': '"just a string"' })).toMatchObject({ status: 'error', message: 'could not read engines.node: /app/package.json is not a package.json: its JSON is not an object' });
  });
  it('is an error, and the walk stops there, when reading it fails (a parent package.json is not taken instead)', async () => {
    const o = await observeFiles({ '/app/package.json': null, '/package.json': '{ "engines": { "node": ">=18" } }' });
    expect(o.searched).toEqual(['/app/package.json']);
    expect(declaredEngines(o, '/app', '/app')).toMatchObject({ status: 'error', message: `could not read engines.node: reading /app/package.json: ${DAEMON}` });
  });
  it('skips when there is no package.json, or it declares no engines.node', async () => {
    expect(await judge({})).toMatchObject({ status: 'skip', message: 'no package.json found from /app upward: no engines.node to compare' });
    expect(await judge({ '/package.json': '{ "name": "x" }' })).toMatchObject({ status: 'skip', message: '/package.json declares no engines.node' });
  });
});

describe('engines-node run on those facts', () => {
  const exited = { containerId: 'c', timeline: [], probes: {}, logs: [], durationMs: 0, exitedEarly: { exitCode: observed(1), afterMs: observed(100), oomKilled: false } } as unknown as LifecycleObservation;
  const run = async (files: Record<string, string | null>) => enginesNode.run({ basics, lifecycle: exited, observed: await observeFiles(files) } as unknown as CheckInput);
  it('goes on to the running version once a BOM package.json declares a range (never "declares no engines.node")', async () => {
    const v = await run({ '/app/package.json': '\ufeff{ "engines": { "node": ">=22" } }' });
    expect(v.message).not.toContain('declares no engines.node');
    expect(v).toMatchObject({ status: 'error', message: expect.stringMatching(/^could not read the running Node version: the app exited by itself/) });
  });
  it('is an error for an invalid package.json, not a skip', async () => {
    const v = await run({ '/app/package.json': '{ nope' });
    expect(v).toMatchObject({ status: 'error', message: expect.stringMatching(/^could not read engines\.node: \/app\/package\.json is not valid JSON: /) });
  });
});
