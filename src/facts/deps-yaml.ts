// Just enough YAML for pnpm's lockfiles and node_modules/.modules.yaml, and yarn berry's yarn.lock:
// block mappings and block sequences of scalars. Flow collections stay raw strings ("{}" and "[]"
// become empty ones); anchors, multi-line scalars and the rest of YAML are not needed there.
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

function scalar(raw: string): YamlValue {
  const v = raw.trim();
  if (v === '{}') return {};
  if (v === '[]') return [];
  if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) return v.slice(1, -1).replace(/''/g, "'");
  return v;
}

/** Splits "key: value" at the first ": " outside quotes; undefined when the line is no mapping entry. */
function splitEntry(text: string): [string, string] | undefined {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ':' && (i === text.length - 1 || text[i + 1] === ' ')) {
      return [String(scalar(text.slice(0, i))), text.slice(i + 1).trim()];
    }
  }
  return undefined;
}

export function parseYaml(text: string): YamlValue {
  const lines = text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#') && l.trim() !== '---')
    .map((l) => ({ indent: l.length - l.trimStart().length, text: l.trim() }));
  let i = 0;
  const block = (indent: number): YamlValue => {
    if (i < lines.length && lines[i].text.startsWith('- ') && lines[i].indent >= indent) {
      const list: YamlValue[] = [];
      const at = lines[i].indent;
      while (i < lines.length && lines[i].indent === at && lines[i].text.startsWith('- ')) {
        list.push(scalar(lines[i].text.slice(2)));
        i++;
        while (i < lines.length && lines[i].indent > at) i++; // nested content of an item: not needed
      }
      return list;
    }
    const map: Record<string, YamlValue> = {};
    const at = i < lines.length ? lines[i].indent : indent;
    while (i < lines.length && lines[i].indent === at && at >= indent) {
      const entry = splitEntry(lines[i].text);
      i++;
      if (!entry) continue;
      const [key, value] = entry;
      if (value !== '') map[key] = scalar(value);
      else if (i < lines.length && (lines[i].indent > at || (lines[i].indent === at && lines[i].text.startsWith('- ')))) map[key] = block(lines[i].indent);
      else map[key] = '';
    }
    return map;
  };
  return block(0);
}
