import { describe, expect, it } from 'vitest';
import { parseManifestText } from '../../src/manifest/parse.js';
import { expandRefs, manifestTarget, normaliseRef, parseQuantity, selectContainer } from '../../src/manifest/select.js';
import { kubeletRefusal } from '../../src/checks/k8s-run-as-non-root.js';
import { erofsPaths, leafChanges } from '../../src/checks/read-only-rootfs.js';
import { UsageError } from '../../src/errors.js';

const deployment = `# comment
apiVersion: v1
kind: Service
metadata: { name: api }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      terminationGracePeriodSeconds: 12
      securityContext:
        runAsNonRoot: true
      containers:
        - name: api
          image: docker.io/library/api:1.0
          command: ["node"]
          args: ["server.js", "--port=$(PORT)"]
          workingDir: /srv
          env:
            - name: PORT
              value: "8080"
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: { name: db, key: password }
          envFrom:
            - configMapRef: { name: settings }
          securityContext:
            runAsUser: 1001
            readOnlyRootFilesystem: true
          resources:
            limits:
              memory: 128Mi
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "10"]
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
            - { name: config, mountPath: /etc/app }
        - name: proxy
          image: envoy:1.30
      volumes:
        - name: tmp
          emptyDir: {}
        - name: config
          configMap: { name: app-config }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: report
              image: api:1.0
`;

describe('manifest parsing', () => {
  it('reads every workload of a multi-document file, with the lines of its parts', () => {
    const workloads = parseManifestText('k8s.yaml', deployment);
    expect(workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/api', 'CronJob/nightly']);
    expect(workloads[0].line).toBe(7);
    expect(workloads[0].lineOf(['containers', 0, 'lifecycle', 'preStop'])).toBe(37);
    expect(workloads[0].lineOf(['terminationGracePeriodSeconds'])).toBe(13);
    expect(workloads[1].pod.containers?.[0].name).toBe('report');
  });
  it('a file that is not YAML is exit 2 naming the file and line', () => {
    expect(() => parseManifestText('bad.yaml', 'kind: Pod\nspec:\n  containers:\n  - name: [a\n')).toThrow(UsageError);
    expect(() => parseManifestText('bad.yaml', 'kind: Pod\nspec: {\n')).toThrow(/^Bad manifest bad\.yaml:\d+: /);
  });
  it('takes command, args ($(VAR) expanded), env values, workingDir, user, read-only root, emptyDir tmpfs and the memory limit; names what it cannot reproduce', () => {
    const [w] = parseManifestText('k8s.yaml', deployment);
    const t = manifestTarget(w, 0);
    expect(t.run).toMatchObject({
      entrypoint: ['node'],
      cmd: ['server.js', '--port=8080'],
      env: { PORT: '8080' },
      workingDir: '/srv',
      user: '1001',
      readOnlyRootfs: true,
      tmpfs: { '/tmp': 'rw,mode=1777' },
      memoryBytes: 128 * 2 ** 20,
    });
    expect(t.graceSeconds).toBe(12);
    expect(t.notReproducible).toEqual(['env DB_PASSWORD (valueFrom secretKeyRef): not set', 'envFrom configMapRef settings: not set', 'volume config (configMap) at /etc/app: not mounted']);
    expect(t.security).toMatchObject({ runAsNonRoot: true, runAsNonRootFrom: 'pod', runAsUser: 1001 });
  });
  it('Kubernetes quantities and $(VAR) references', () => {
    expect(parseQuantity('64Mi')).toBe(64 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('129e6')).toBe(129e6);
    expect(parseQuantity('134217728')).toBe(134217728);
    expect(parseQuantity('lots')).toBeUndefined();
    expect(expandRefs('$(A)-$$(A)-$(B)', { A: 'x' })).toBe('x-$(A)-$(B)');
    expect(normaliseRef('docker.io/library/node')).toBe('node:latest');
  });
});

describe('container selection', () => {
  const workloads = parseManifestText('k8s.yaml', deployment);
  it('by --container, else by the audited image, else the only one', () => {
    expect(selectContainer(workloads, ['k8s.yaml'], { container: 'proxy' }).index).toBe(1);
    expect(selectContainer(workloads, ['k8s.yaml'], { imageRefs: ['envoy:1.30'] }).index).toBe(1);
  });
  it('an ambiguous choice is exit 2 listing the names', () => {
    expect(() => selectContainer(workloads, ['k8s.yaml'], {})).toThrow(/Which container\? 3 containers .*--container: api \(Deployment\/api.*proxy \(Deployment\/api.*report \(CronJob\/nightly/);
    expect(() => selectContainer(workloads, ['k8s.yaml'], { imageRefs: ['api:1.0'] })).toThrow(/2 containers/);
    expect(() => selectContainer(workloads, ['k8s.yaml'], { container: 'nope' })).toThrow(/No container named "nope"/);
  });
});

describe('kubelet rules', () => {
  const [w] = parseManifestText('k8s.yaml', deployment.replace('            runAsUser: 1001\n', ''));
  const t = manifestTarget(w, 0);
  it("refuses a named USER with the kubelet's own words; a numeric non-zero one passes", () => {
    expect(kubeletRefusal(t, 'node')).toBe('container has runAsNonRoot and image has non-numeric user (node), cannot verify user is non-root (pod: "api", container: api)');
    expect(kubeletRefusal(t, '')).toMatch(/image will run as root/);
    expect(kubeletRefusal(t, '1000:1000')).toBeUndefined();
    expect(kubeletRefusal({ ...t, security: { ...t.security, runAsUser: 0 } }, '1000')).toMatch(/runAsUser breaks non-root policy/);
    expect(kubeletRefusal({ ...t, security: { ...t.security, runAsUser: 1000 } }, 'node')).toBeUndefined();
  });
  it('names the paths of EROFS writes and of filesystem changes', () => {
    expect(erofsPaths(["cannot write the cache: EROFS: read-only file system, open '/app/cache.json'"])).toEqual(['/app/cache.json']);
    expect(leafChanges([{ path: '/app', kind: 'modified' }, { path: '/app/cache.json', kind: 'added' }]).map((c) => c.path)).toEqual(['/app/cache.json']);
  });
});

describe('k8s-probes helpers', async () => {
  const { procAddress, reach } = await import('../../src/checks/k8s-probes.js');
  it('reads /proc/net/tcp addresses and tells loopback-only listeners', () => {
    expect(procAddress('0100007F')).toBe('127.0.0.1');
    expect(procAddress('00000000')).toBe('0.0.0.0');
    expect(procAddress('00000000000000000000000001000000')).toBe('::1');
    expect(procAddress('00000000000000000000000000000000')).toBe('::');
    expect(reach([{ address: '127.0.0.1', port: 3000 }], 3000)).toBe('loopback-only');
    expect(reach([{ address: '127.0.0.1', port: 3000 }, { address: '::', port: 3000 }], 3000)).toBe('pod-ip');
    expect(reach([{ address: '0.0.0.0', port: 3000 }], 8080)).toBe('none');
  });
});
