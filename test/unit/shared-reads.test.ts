// The files container's small reads are shared within an audit (engines-node and no-dev-dependencies
// both read the app's package.json): one daemon read per path, a failed read read again, and nothing
// else of the port changed.
import { describe, expect, it } from 'vitest';
import type { DockerPort } from '../../src/docker/port.js';
import { sharingReadsOf } from '../../src/docker/shared-reads.js';

/** A port that counts its reads; `fail` makes the next read of a path fail once. */
function countingPort() {
  const calls: string[] = [];
  const fail = new Set<string>();
  const port = {
    label: 'the real port',
    async readFile(id: string, p: string) {
      calls.push(`read ${id} ${p}`);
      await new Promise((r) => setTimeout(r, 5));
      if (fail.delete(p)) throw new Error('Error response from daemon: a transient failure');
      return p.endsWith('absent') ? undefined : Buffer.from(`${id}:${p}`);
    },
    async statPath(id: string, p: string) {
      calls.push(`stat ${id} ${p}`);
      return p.endsWith('absent') ? undefined : { name: p, size: 1, mode: 0o644, isDirectory: false, linkTarget: '' };
    },
    async logs(this: { label: string }, id: string) {
      return [`${this.label} ${id}`];
    },
  };
  return { port: port as unknown as DockerPort, calls, fail };
}

describe('sharingReadsOf', () => {
  it('reads a path of the shared container once, however many ask, at once or later', async () => {
    const { port, calls } = countingPort();
    const docker = sharingReadsOf(port, () => 'files');
    const [a, b] = await Promise.all([docker.readFile('files', '/app/package.json'), docker.readFile('files', '/app/package.json')]);
    const c = await docker.readFile('files', '/app/package.json');
    expect([a, b, c].map(String)).toEqual(['files:/app/package.json', 'files:/app/package.json', 'files:/app/package.json']);
    expect(await docker.readFile('files', '/app/absent')).toBeUndefined();
    expect(await docker.readFile('files', '/app/absent')).toBeUndefined();
    expect(calls).toEqual(['read files /app/package.json', 'read files /app/absent']);
  });

  it('shares stats the same way, apart from reads', async () => {
    const { port, calls } = countingPort();
    const docker = sharingReadsOf(port, () => 'files');
    await Promise.all([docker.statPath('files', '/app/node_modules'), docker.statPath('files', '/app/node_modules')]);
    await docker.readFile('files', '/app/node_modules');
    expect(calls).toEqual(['stat files /app/node_modules', 'read files /app/node_modules']);
  });

  it('never shares the reads of another container (a running one may change)', async () => {
    const { port, calls } = countingPort();
    const docker = sharingReadsOf(port, () => 'files');
    await docker.readFile('app', '/etc/passwd');
    await docker.readFile('app', '/etc/passwd');
    await docker.statPath('app', '/etc/passwd');
    await docker.statPath('app', '/etc/passwd');
    expect(calls).toEqual(['read app /etc/passwd', 'read app /etc/passwd', 'stat app /etc/passwd', 'stat app /etc/passwd']);
  });

  it('shares nothing before the shared container exists', async () => {
    const { port, calls } = countingPort();
    let id: string | undefined;
    const docker = sharingReadsOf(port, () => id);
    await docker.readFile('files', '/etc/passwd');
    id = 'files';
    await docker.readFile('files', '/etc/passwd');
    await docker.readFile('files', '/etc/passwd');
    expect(calls).toEqual(['read files /etc/passwd', 'read files /etc/passwd']);
  });

  it('does not keep a failed read: the next one asks the daemon again', async () => {
    const { port, calls, fail } = countingPort();
    const docker = sharingReadsOf(port, () => 'files');
    fail.add('/app/package.json');
    await expect(docker.readFile('files', '/app/package.json')).rejects.toThrow(/transient/);
    expect(String(await docker.readFile('files', '/app/package.json'))).toBe('files:/app/package.json');
    expect(calls).toEqual(['read files /app/package.json', 'read files /app/package.json']);
  });

  it('leaves every other call of the port as it is, on the port itself', async () => {
    const { port } = countingPort();
    const docker = sharingReadsOf(port, () => 'files');
    expect(await docker.logs('files', 20)).toEqual(['the real port files']);
  });
});
