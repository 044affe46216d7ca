// Ctrl-C during an audit: the CLI aborts it, writes no report anywhere, removes the audit's
// containers and ends with 130 (SIGINT) or 143 (SIGTERM).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import { PID_LABEL } from '../../src/docker/reaper.js';
import { startCli } from '../support/cli.js';

const docker = new DockerodePort();

/** An app that never turns healthy: each probe sleeps far past the 60 s probe timeout. */
function neverHealthyContext(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'never-healthy-'));
  writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      'ARG NODE_IMAGE',
      'FROM ${NODE_IMAGE}',
      'USER node',
      'HEALTHCHECK --interval=5s --timeout=60s --retries=1 CMD sleep 100000',
      'CMD ["node", "-e", "setInterval(() => {}, 1000)"]',
      '',
    ].join('\n'),
  );
  return dir;
}

async function waitForContainersOf(pid: number, boundMs: number): Promise<string[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const mine = await docker.listContainers(`${PID_LABEL}=${pid}`);
    if (mine.length || Date.now() > deadline) return mine;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('interrupting the CLI mid-audit', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: exit ${code}, no report written, no container left`, async () => {
      const out = mkdtempSync(path.join(tmpdir(), 'interrupted-'));
      const json = path.join(out, 'a.json');
      const junit = path.join(out, 'a.xml');
      const { child, done } = startCli([
        neverHealthyContext(),
        '--build-arg',
        `NODE_IMAGE=${inject('nodeImage')}`,
        '--format',
        'json',
        '--output',
        json,
        '--report',
        `junit=${junit}`,
      ]);
      // 5 s into the audit: its container runs and the health wait has begun.
      const mine = await waitForContainersOf(child.pid!, 120_000);
      expect(mine.length).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 5000));
      child.kill(signal);
      const run = await done;
      expect(run.code, run.stderr).toBe(code);
      expect(run.stderr).toContain(`image-audit: ${signal}: stopping the audit and removing its containers`);
      expect(run.stdout).toBe('');
      expect(existsSync(json)).toBe(false);
      expect(existsSync(junit)).toBe(false);
      expect(await docker.listContainers(`${PID_LABEL}=${child.pid}`)).toEqual([]);
    }, 180_000);
  }
});
