// k8s-run-as-non-root: would the kubelet start this container? With `runAsNonRoot: true` (pod or
// container level) it refuses, before anything runs, an image whose USER is a name (it cannot verify the
// uid without reading /etc/passwd), an image that runs as root, and a `runAsUser: 0`. Pure: the manifest
// and the image config. The audit goes on as the image's own user, so the other checks still say what
// else is wrong.
import { containerLocation } from '../manifest/location.js';
import type { ManifestTarget } from '../manifest/select.js';
import { lineWriter, verdict, type Check, type Verdict } from './check.js';

/** The kubelet's own reason (pkg/kubelet/kuberuntime/security_context_others.go, verifyRunAsNonRoot). */
export function kubeletRefusal(target: ManifestTarget, imageUser: string): string | undefined {
  const where = `(pod: "${target.workload}", container: ${target.container.name})`;
  const runAsUser = target.security.runAsUser;
  if (runAsUser !== undefined) return runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  const user = imageUser.split(':')[0];
  if (user === '' ) return `container has runAsNonRoot and image will run as root ${where}`;
  if (!/^\d+$/.test(user)) return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`;
  if (Number(user) === 0) return `container has runAsNonRoot and image will run as root ${where}`;
  return undefined;
}

export const k8sRunAsNonRoot: Check = {
  id: 'k8s-run-as-non-root',
  title: 'Kubernetes can start it under runAsNonRoot',
  needs: ['image'],
  withManifest: true,
  help: 'Under `runAsNonRoot: true` the kubelet needs a numeric, non-zero user: `USER 1000` (e.g. `USER node` → `USER 1000`) in the Dockerfile, or `runAsUser: 1000` in the securityContext.',
  run({ basics, settings }): Verdict {
    const target = settings.manifest;
    if (!target) return verdict('skip', 'no --manifest was given: there is no securityContext to hold the image against');
    const imageUser = basics.image.config.user;
    const evidence = {
      runAsNonRoot: target.security.runAsNonRoot,
      runAsNonRootFrom: target.security.runAsNonRootFrom,
      runAsUser: target.security.runAsUser,
      imageUser: imageUser || '(not set: root)',
    };
    const at = (path: string[]) => {
      if (target.security.runAsNonRootFrom === 'container' || !target.security.runAsNonRootFrom) return containerLocation(target, ['securityContext', ...path]);
      return { ...containerLocation(target, []), line: target.podLine(['securityContext', ...path]) };
    };
    if (target.security.runAsNonRoot !== true) {
      return verdict('skip', 'runAsNonRoot is not set: the kubelet does not check the user (non-root-user judges the uid the app runs as)', evidence);
    }
    const refusal = kubeletRefusal(target, imageUser);
    if (refusal) {
      const userZero = target.security.runAsUser === 0;
      const hint = userZero
        ? 'Set `runAsUser` to a non-zero uid (e.g. 1000) in the securityContext, or drop it and use a numeric USER in the image.'
        : `Use a numeric USER in the Dockerfile (\`USER ${/^node$/.test(imageUser.split(':')[0]) ? '1000' : '<uid>'}\` instead of \`USER ${imageUser || 'root'}\`), or set \`runAsUser: 1000\` in the container's securityContext.`;
      return { ...verdict('fail', `the kubelet would refuse to start it (CreateContainerConfigError): ${refusal}`, { ...evidence, kubeletReason: refusal, manifestLine: at(['runAsNonRoot']).line }, hint), ...(userZero ? { location: at(['runAsUser']) } : {}) };
    }
    const by = target.security.runAsUser !== undefined ? `runAsUser ${target.security.runAsUser}` : `the image's numeric USER ${imageUser}`;
    return verdict('pass', `runAsNonRoot holds: ${by} is a non-zero uid the kubelet can verify`, evidence);
  },
  lines(result) {
    const e = result.evidence as { runAsNonRoot?: boolean; runAsUser?: number; imageUser?: string; kubeletReason?: string };
    const { lines, add } = lineWriter();
    add('runAsNonRoot', e.runAsNonRoot === undefined ? undefined : String(e.runAsNonRoot));
    add('runAsUser', e.runAsUser === undefined ? undefined : String(e.runAsUser));
    add('image USER', e.imageUser);
    add('kubelet', e.kubeletReason);
    return lines;
  },
  locate: (stage) => stage.last('USER'),
};
