// The config file's shape (image-audit.config.json, or the `imageAudit` key of package.json), as a
// JSON Schema validated with ajv. Unknown keys are errors: a typo must not silently do nothing.
import { CHECK_IDS } from '../checks/ids.js';

const sizeOrBytes = { type: ['string', 'number'], description: "a size such as '250MB' (decimal), '240MiB' (binary), or bytes" };
const duration = { type: ['string', 'number'], description: "a duration such as '5s' or '1500ms', or milliseconds" };
const checkIds = { type: 'array', items: { enum: CHECK_IDS } };
const percent = { type: 'number', minimum: 0 };
/** A Docker network name (or 'none', 'bridge'): what `docker network create` accepts. */
export const NETWORK_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
/** An HTTP request path: starts with '/', no spaces or control characters. */
export const DRAIN_PATH_PATTERN = '^/[^\\s\\x00-\\x1f\\x7f]*$';

export const GATE_KEYS = {
  baseline: { type: 'string', description: "an image reference, or 'auto' (the previous release tag)" },
  maxSizeGrowthPercent: percent,
  maxSizeGrowthBytes: sizeOrBytes,
  maxShutdownGrowthPercent: percent,
  maxShutdownGrowthMs: duration,
  maxHealthyGrowthPercent: percent,
  maxHealthyGrowthMs: duration,
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    sizeBudget: sizeOrBytes,
    shutdownBudget: duration,
    init: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    only: checkIds,
    skip: checkIds,
    dockerfile: { type: 'string', minLength: 1 },
    target: { type: 'string', minLength: 1 },
    buildArgs: { type: 'object', additionalProperties: { type: 'string' } },
    envFile: { type: 'string', minLength: 1 },
    buildTimeout: duration,
    healthTimeout: duration,
    memory: { ...sizeOrBytes, description: "memory limit of the audited container, e.g. '512MiB'; 0: no limit" },
    pidsLimit: { type: 'integer', minimum: 0, description: 'pids limit of the audited container; 0: no limit' },
    network: { type: 'string', pattern: NETWORK_PATTERN, description: "'bridge', 'none', or a network name" },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    drainPath: { type: 'string', pattern: DRAIN_PATH_PATTERN, description: "request path of the drain probe, e.g. '/'" },
    deep: { type: 'boolean' },
    manifest: {
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
      description: 'Kubernetes manifest file(s), relative to this file: the audited container runs as the chosen container says',
    },
    container: { type: 'string', minLength: 1, description: "the manifest's container to audit" },
    waivers: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['check', 'reason'],
        properties: {
          check: { enum: CHECK_IDS },
          reason: { type: 'string', minLength: 1, pattern: '\\S' },
          expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        },
      },
    },
    gate: { type: 'object', additionalProperties: false, properties: GATE_KEYS },
  },
} as const;
