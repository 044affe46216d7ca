// A JSON schema's validator, compiled on first use: most runs read no config file and no fleet file, and
// ajv costs ~100 ms to load and compile. Both files are validated through this one.
import { createRequire } from 'node:module';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';

/** Validates against `schema` (ajv with every error and union types, then `options`): the errors, none when valid. */
export function lazyValidator(schema: object, options: Options = {}): (raw: unknown) => ErrorObject[] {
  let validate: ValidateFunction | undefined;
  return (raw) => {
    if (!validate) {
      const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
      validate = new Ajv({ allErrors: true, allowUnionTypes: true, ...options }).compile(schema);
    }
    return validate(raw) ? [] : (validate.errors ?? []);
  };
}
