// The content checks on fixtures/content: secrets (every layer, the config, the history), engines-node,
// node-env and layer-cache, each on an image built once per fixture.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { audit } from '../../src/audit.js';
import { DockerodePort } from '../../src/docker/dockerode-port.js';
import type { AuditReport, TargetSpec } from '../../src/types.js';
import { check } from '../support/fixtures.js';
import type { CheckId } from '../../src/types.js';

const CONTENT_DIR = path.resolve(__dirname, '../../fixtures/content');
const ARG_TOKEN = 'npm_FAKEargTOKEN0987654321zyxwvutsrqpo';
const ONLY: CheckId[] = ['secrets', 'engines-node', 'node-env', 'layer-cache'];
const docker = new DockerodePort();
const built = new Set<string>();

const fixture = (dockerfile: string): TargetSpec => ({
  kind: 'context',
  dir: CONTENT_DIR,
  dockerfile,
  buildArgs: { NODE_IMAGE: inject('nodeImage'), ...(dockerfile === 'arg-token.Dockerfile' ? { NPM_TOKEN: ARG_TOKEN } : {}) },
});

async function auditContent(dockerfile: string): Promise<AuditReport> {
  const report = await audit(fixture(dockerfile), { only: ONLY });
  for (const tag of report.image.tags) built.add(tag);
  return report;
}

afterAll(async () => {
  for (const tag of built) await docker.removeImage(tag);
});

describe('the clean content fixture (manifests first, NODE_ENV=production, engines >=20)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditContent('Dockerfile');
  });
  it('passes secrets after streaming every layer', () => {
    const c = check(report, 'secrets');
    expect(c.status).toBe('pass');
    expect(c.message).toMatch(/^no credentials in \d+ layers \(.* (streamed, \d+ candidate files read|layer cache, \d+ candidate files read then)\)/);
    expect(c.evidence.findings).toEqual([]);
  });
  it('passes engines-node with the running version', () => {
    expect(check(report, 'engines-node')).toMatchObject({ status: 'pass', message: 'Node v20.20.2 satisfies engines.node ">=20" of /home/node/app/package.json' });
  });
  it('passes node-env', () => {
    expect(check(report, 'node-env')).toMatchObject({ status: 'pass', message: 'NODE_ENV is "production" in the running app' });
  });
  it('passes layer-cache: the install stayed cached after a source change', () => {
    const c = check(report, 'layer-cache');
    expect(c.status).toBe('pass');
    expect(c.message).toMatch(/^changing src\/server\.js kept 1 install step cached; the rebuild took /);
    expect(c.evidence.installsReran).toEqual([]);
  });
  it('leaves no rebuild image behind', async () => {
    expect((await docker.listImageTags()).filter((t) => t.startsWith('node-image-audit/layer-cache-probe-'))).toEqual([]);
  });
});

describe('the npmrc-removed fixture (.npmrc with a token copied, then rm in a later layer; COPY . . before npm ci)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditContent('npmrc-removed.Dockerfile');
  });
  it('fails secrets naming the layer, its Dockerfile line and the masked token', () => {
    const c = check(report, 'secrets');
    expect(c.status).toBe('fail');
    expect(c.message).toBe(
      '1 secret in the image: .npmrc credential: /home/node/.npmrc: //registry.npmjs.org/:_authToken = *** (40 chars) (deleted by a later layer, still in the image) — layer 3 (npmrc-removed.Dockerfile:7 COPY ci.npmrc /home/node/.npmrc)',
    );
    expect(c.hint).toContain('--mount=type=secret,id=npmrc');
    expect(c.location).toEqual({ file: 'npmrc-removed.Dockerfile', line: 7, instruction: 'COPY ci.npmrc /home/node/.npmrc' });
    expect(JSON.stringify(report)).not.toContain('FAKEfixtureTOKEN');
  });
  it('warns node-env: NODE_ENV unset', () => {
    expect(check(report, 'node-env')).toMatchObject({ status: 'warn', message: 'NODE_ENV is not set in the running app: libraries default to development behaviour' });
  });
  it('fails layer-cache: npm ci re-ran, invalidated by COPY . .', () => {
    const c = check(report, 'layer-cache');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^changing src\/server\.js re-ran RUN npm ci --omit=dev \(line 9\), invalidated by COPY \. \. \(line 8\); the rebuild took /);
    expect(c.evidence.installsReran).toEqual([
      {
        step: '[5/6] RUN npm ci --omit=dev',
        location: { file: 'npmrc-removed.Dockerfile', line: 9, instruction: 'RUN npm ci --omit=dev' },
        invalidatedBy: { step: '[4/6] COPY --chown=node:node . .', location: { file: 'npmrc-removed.Dockerfile', line: 8, instruction: 'COPY . .' } },
      },
    ]);
  });
});

describe('the arg-token fixture (ARG NPM_TOKEN used in a RUN, NODE_ENV=development, engines >=22 on Node 20)', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await auditContent('arg-token.Dockerfile');
  });
  it('fails secrets on the build arg recorded in the history, masked', () => {
    const c = check(report, 'secrets');
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^1 secret in the image: secret-looking build arg: NPM_TOKEN = \*\*\* \(38 chars\) — layer \d+ \(arg-token\.Dockerfile:10 RUN echo /);
    // No part of the report carries the value: the redactor was fed from the history (layers included).
    expect(JSON.stringify(report)).not.toContain('FAKEargTOKEN');
    expect((c.evidence.findings as Array<{ createdBy: string }>)[0].createdBy).toMatch(/^RUN \|1 NPM_TOKEN=\*\*\* \/bin\/sh -c echo/);
  });
  it('fails engines-node with both versions', () => {
    const c = check(report, 'engines-node');
    expect(c).toMatchObject({ status: 'fail', message: 'the app runs on Node v20.20.2 but /home/node/app/package.json requires engines.node ">=22"' });
    expect(c.hint).toContain('node:22');
  });
  it('fails node-env: development', () => {
    expect(check(report, 'node-env')).toMatchObject({ status: 'fail', message: 'NODE_ENV is "development" in the running app; expected "production"', location: { line: 6 } });
  });
});

describe('layer-cache on an image reference', () => {
  it('skips: there is no context to rebuild', async () => {
    const tag = [...built][0];
    expect(tag).toBeDefined();
    const report = await audit(tag!, { only: ['layer-cache'] });
    expect(check(report, 'layer-cache')).toMatchObject({ status: 'skip', message: 'the target is an image reference: there is no build context to change and rebuild' });
  });
});
