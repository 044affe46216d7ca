// The fleet file, image-audit.fleet.json: the targets of a fleet with per-target options, defaults for
// all of them, and optionally the engines and the jobs per engine. Validated with ajv like the config
// (src/config/load.ts): the file's own keys here, each `defaults` and target entry's options by the
// config's very schema and rules (parseConfig), so a key means the same in both files.
//
//   {
//     "engines": ["default", "build-2"],
//     "jobs": 2,
//     "defaults": { "sizeBudget": "300MB", "buildArgs": { "NODE_IMAGE": "node:20-slim" } },
//     "targets": [
//       "services/*",
//       { "target": "services/api", "dockerfile": "Dockerfile.prod", "envFile": "ci.env" },
//       { "target": "legacy", "name": "legacy-worker", "dockerfile": "worker.Dockerfile", "waivers": [ … ] },
//       "myorg/billing:1.4.0"
//     ]
//   }
//
// Relative paths (contexts, globs, envFile) are relative to the fleet file's folder.
import type { ErrorObject } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { lazyValidator } from '../config/json-validator.js';
import { parseConfig, type LoadedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';

export const FLEET_FILE = 'image-audit.fleet.json';

/** The fleet file's own keys; option keys inside `defaults` and entries are the config's (checked by parseConfig). */
export const fleetSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['targets'],
  properties: {
    $schema: { type: 'string' },
    engines: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    jobs: { type: 'integer', minimum: 1, maximum: 256 },
    defaults: { type: 'object' },
    targets: {
      type: 'array',
      minItems: 1,
      items: {
        type: ['string', 'object'],
        minLength: 1,
        required: ['target'],
        properties: { target: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1, pattern: '\\S' } },
      },
    },
  },
} as const;

export interface FleetFileEntry {
  /** As written in the file: a context folder, a glob of them, or an image reference. */
  target: string;
  name?: string;
  /** The entry's own options (the config's keys), validated; undefined for a plain string entry. */
  options?: LoadedConfig;
  /** Where it is in the file, for messages: "image-audit.fleet.json /targets/3". */
  at: string;
}

export interface FleetFile {
  file: string;
  /** Relative targets, globs and env files are relative to this folder. */
  dir: string;
  engines?: string[];
  jobs?: number;
  defaults?: LoadedConfig;
  entries: FleetFileEntry[];
}

const validate = lazyValidator(fleetSchema, { strict: false });

function describe(error: ErrorObject): string {
  const at = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') {
    return `${at}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}" (allowed: ${Object.keys(fleetSchema.properties).join(', ')})`;
  }
  if (error.keyword === 'required') return `${at}: missing "${(error.params as { missingProperty: string }).missingProperty}"`;
  return `${at}: ${error.message}`;
}

export function parseFleetFile(raw: unknown, file: string): FleetFile {
  const problems = validate(raw).map(describe);
  if (problems.length) throw new UsageError(`Invalid fleet file ${file}: ${problems[0]}`, problems.slice(1));
  const data = raw as { engines?: string[]; jobs?: number; defaults?: Record<string, unknown>; targets: Array<string | Record<string, unknown>> };
  const dir = path.dirname(file);
  const defaults = data.defaults ? parseConfig(data.defaults, `${file} /defaults`, dir) : undefined;
  const entries = data.targets.map((item, i): FleetFileEntry => {
    const at = `${file} /targets/${i}`;
    if (typeof item === 'string') return { target: item, at };
    const { target, name, ...options } = item as { target: string; name?: string };
    return { target, ...(name && { name }), options: parseConfig(options, at, dir), at };
  });
  return { file, dir, ...(data.engines && { engines: data.engines }), ...(data.jobs && { jobs: data.jobs }), ...(defaults && { defaults }), entries };
}

export function readFleetFile(file: string): FleetFile {
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw new UsageError(`No fleet file at ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(absolute, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError(`Cannot read fleet file ${file}: ${(err as Error).message}`);
  }
  return parseFleetFile(raw, absolute);
}
