import { lineWriter, notObserved, required, unobservedVerdict, verdict, type Check } from './check.js';

export const nodeEnv: Check = {
  id: 'node-env',
  title: 'Runs with NODE_ENV=production',
  needs: ['runtime'],
  help: 'Set `ENV NODE_ENV=production` in the final stage (or pass it at run time): frameworks such as Express and Next.js otherwise run their development paths.',
  run({ lifecycle, basics, settings }) {
    const life = required(lifecycle, 'lifecycle');
    const cannot = notObserved(life, settings);
    if (cannot) return verdict('error', `could not read the running app's environment: ${cannot}`, {});
    if (!life.runtime) return verdict('error', `could not read the running app's environment: ${life.runtimeError ?? 'the runtime was not observed'}`, {});
    const { nodeEnv, pid, argv } = life.runtime;
    const app = { appPid: pid, app: argv.join(' ').slice(0, 200) };
    if (!nodeEnv.ok) {
      // What the image's config says is context, not the running app's value: the verdict is not drawn from it.
      const configured = basics?.image.config.env.find((e) => e.startsWith('NODE_ENV='));
      return unobservedVerdict(nodeEnv, { ...app, ...(configured !== undefined ? { imageConfig: configured } : {}) }, 'error', "could not read NODE_ENV of the running app");
    }
    const value = nodeEnv.value;
    // Only NODE_ENV is ever read from the process; no other variable reaches the evidence.
    const evidence = { nodeEnv: value, ...app };
    const fix = 'Add `ENV NODE_ENV=production` to the final stage of the Dockerfile (or set it in the deployment).';
    if (value === null) return verdict('warn', 'NODE_ENV is not set in the running app: libraries default to development behaviour', evidence, fix);
    if (value !== 'production') return verdict('fail', `NODE_ENV is "${value}" in the running app; expected "production"`, evidence, `${fix} A stage-wide \`ENV NODE_ENV=${value}\` left from development is the usual cause.`);
    return verdict('pass', 'NODE_ENV is "production" in the running app', evidence);
  },
  lines(result) {
    const e = result.evidence as { nodeEnv?: string | null; appPid?: number; app?: string; imageConfig?: string; notObserved?: string };
    const { lines, add } = lineWriter();
    if ('nodeEnv' in e) add('NODE_ENV', e.nodeEnv === null ? '(unset)' : `"${e.nodeEnv}"`);
    if (e.notObserved) add('NODE_ENV', `not read (${e.notObserved})`);
    add("image config's ENV", e.imageConfig);
    add('app', e.app && `pid ${e.appPid} in the container: ${e.app}`);
    return lines;
  },
  locate: (stage) => stage.lastMatching(/^ENV\b.*\bNODE_ENV\b/) ?? stage.last('CMD', 'ENTRYPOINT'),
};
