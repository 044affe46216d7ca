// YAML for pnpm's lockfiles and node_modules/.modules.yaml, and yarn berry's yarn.lock, read with the
// `yaml` library (YAML 1.2). The failsafe schema keeps every scalar a string, as lockfile readers
// expect ("5.4" stays "5.4", not 5.4); an empty value is "". A document that is not YAML throws with the
// library's line and column. The library is loaded on first use (src/yaml-library.ts).
import { yamlLibrary } from '../yaml-library.js';

export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

function normalise(value: unknown): YamlValue {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object') {
    const out: Record<string, YamlValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = normalise(v);
    return out;
  }
  return String(value);
}

export function parseYaml(text: string): YamlValue {
  const { parse } = yamlLibrary();
  // Lockfiles are large and repeat keys in merge-free form; aliases are allowed but bounded by the library.
  return normalise(parse(text, { schema: 'failsafe', uniqueKeys: false, maxAliasCount: 1000 }));
}
