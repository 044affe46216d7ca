// File facts that can fail to be read, on real images: a package.json with a UTF-8 byte-order mark is
// read and judged (engines-node, no-dev-dependencies); one that is not JSON is an error naming it; and
// layer-cache changes a file the build receives under <Dockerfile>.dockerignore.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/types.js';
import { check, fixtureFolder } from '../support/fixtures.js';

const CONTENT = path.resolve(__dirname, '../../fixtures/content');
const bom = fixtureFolder(path.join(CONTENT, 'bom-manifest'));
const ignore = fixtureFolder(path.join(CONTENT, 'per-dockerfile-ignore'));

describe('package.json with a UTF-8 byte-order mark, engines.node ">=22" on Node 20, a full npm ci', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await bom('Dockerfile', { only: ['engines-node', 'no-dev-dependencies'] });
  });
  it('fails engines-node: the range is read through the byte-order mark', () => {
    const c = check(report, 'engines-node');
    expect(c).toMatchObject({ status: 'fail', message: expect.stringMatching(/^the app runs on Node v20\.\d+\.\d+ but \/home\/node\/app\/package\.json requires engines\.node ">=22"$/) });
  });
  it('fails no-dev-dependencies, the production set computed from that package.json', () => {
    const c = check(report, 'no-dev-dependencies');
    expect(c.status, c.message).toBe('fail');
    expect((c.evidence.leaked as Array<{ name: string }>).map((p) => p.name)).toEqual(['color-kit', 'lint-tool']);
    expect(c.evidence).toMatchObject({ manifestFrom: 'image: /home/node/app/package.json', productionCount: 2 });
  });
});

describe('a package.json that is not JSON', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await bom('invalid.Dockerfile', { only: ['engines-node', 'no-dev-dependencies'] });
  });
  it('is an engines-node error naming the file and the parse error', () => {
    const c = check(report, 'engines-node');
    expect(c).toMatchObject({ status: 'error', message: expect.stringMatching(/^could not read engines\.node: \/home\/node\/app\/package\.json is not valid JSON: /) });
  });
  it('is a no-dev-dependencies error naming the file, not a verdict from another file', () => {
    const c = check(report, 'no-dev-dependencies');
    expect(c).toMatchObject({ status: 'error', message: expect.stringMatching(/^could not read the app's package\.json: \/home\/node\/app\/package\.json is not valid JSON: /) });
  });
});

describe('layer-cache with app.Dockerfile.dockerignore excluding the host build output', () => {
  let report: AuditReport;
  beforeAll(async () => {
    report = await ignore('app.Dockerfile', { only: ['layer-cache'] });
  });
  it('changes a file the build receives (src/server.js, not the ignored dist/server.js) and passes', () => {
    const c = check(report, 'layer-cache');
    expect(c.evidence).toMatchObject({ changedFile: 'src/server.js', ignoreFile: 'app.Dockerfile.dockerignore', installsReran: [] });
    expect(c.status, c.message).toBe('pass');
    expect(c.message).toMatch(/^changing src\/server\.js kept 1 install step cached; the rebuild took .* \(2 steps re-ran\)$/);
  });
});
