// One describe block, one test per check, for the target named by IMAGE_AUDIT_TARGET.
import { describeImage, optionsFromEnv } from '../dist/vitest/index.js';

const { target, options } = optionsFromEnv(process.env);
// A relative target is relative to where the suite was started, not to this file.
describeImage(target, { ...options, name: `image-audit ${target}` });
