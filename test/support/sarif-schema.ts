// Validates a SARIF log against the SARIF 2.1.0 JSON schema (draft-04), as shipped by @microsoft/jest-sarif.
import type { ErrorObject } from 'ajv';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const schemaFile = path.join(path.dirname(require.resolve('@microsoft/jest-sarif/package.json')), 'lib/schemas/sarif-2.1.0-rtm.5.json');
// CommonJS, default-exported: loaded as such.
const Ajv = require('ajv-draft-04') as typeof import('ajv').default;
// The schema's patterns are not valid as unicode regular expressions.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));

/** The schema's complaints, as "path: message" lines; empty when the log is valid. */
export function validateSarif(log: unknown): string[] {
  return validate(log) ? [] : (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'}: ${e.message}`);
}
