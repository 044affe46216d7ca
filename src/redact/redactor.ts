// The one redactor. It stands where bytes leave the process (the CLI's stdout, stderr, progress line and
// report files: src/cli/outlets.ts; the library's report, callbacks and errors: src/audit.ts) and is fed
// by every secret the audit knows. Checks never mask on their own: they hand the values they found to it.
//
// A value is matched
//   - as written, JSON-escaped (once and twice: an app's JSON log inside our JSON report), XML/HTML-escaped
//     and URL-encoded;
//   - line by line when it has several lines (logs are split into lines: a PEM body);
//   - by any prefix or suffix long enough to identify it (a cut log line keeps the token's start; a line
//     wrapped by the app keeps its end): at least a third of the value and never fewer than 8 characters;
//   - when shorter than 4 characters (a value of a secret-looking name: DB_PASSWORD=abc), only as a whole
//     token right after `=` or `:` (an assignment, a URL's user:password@): masking "abc" everywhere would
//     garble innocent text and protect nothing.
// Overlapping matches are merged and each masked run becomes `***`.

export const MASK = '***';

/** Values shorter than this are matched only where they are assigned (see above). */
const SHORT_VALUE = 4;
/** The shortest fragment of a value that counts as the value. */
const MIN_FRAGMENT = 8;

const XML_FORMS: Array<Record<string, string>> = [
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' },
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' },
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' },
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#x22;', "'": '&#x27;' },
];

const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1);

/** Every form a value can take in what we print. */
export function encodingsOf(value: string): string[] {
  const forms = new Set<string>([value, jsonEscaped(value), jsonEscaped(jsonEscaped(value))]);
  for (const table of XML_FORMS) forms.add(value.replace(/[&<>"']/g, (c) => table[c]));
  forms.add(encodeURIComponent(value));
  forms.add(encodeURI(value));
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  return [...forms];
}

/** A PEM armour line names the kind of key, not the key: it stays readable. */
const ARMOUR = /^-{5}(BEGIN|END) [A-Z0-9 ]+-{5}$/;

export interface SecretInput {
  value: string;
  /** Where it came from, e.g. "--env DB_PASSWORD": kept for tests and debugging, never printed. */
  from?: string;
}

export class Redactor {
  /** Needles of 4+ characters, each with the shortest fragment of it that counts. */
  private readonly needles = new Map<string, number>();
  /** Values under 4 characters: matched only where assigned. */
  private readonly shortValues = new Set<string>();
  private shortPattern: RegExp | undefined;

  /** Adds a secret value (empty and whitespace-only values are nothing to hide). */
  add(value: string | undefined): this {
    if (value === undefined) return this;
    const trimmed = value.trim();
    if (!trimmed) return this;
    if (trimmed.length < SHORT_VALUE) {
      this.shortValues.add(trimmed);
      this.shortPattern = undefined;
      return this;
    }
    const parts = new Set([value, trimmed]);
    if (/[\r\n]/.test(trimmed)) {
      for (const line of trimmed.split(/\r?\n|\r/)) {
        const clean = line.trim();
        if (clean.length >= SHORT_VALUE && !ARMOUR.test(clean)) parts.add(clean);
      }
    }
    for (const part of parts) {
      for (const form of encodingsOf(part)) {
        if (form.length < SHORT_VALUE) continue;
        const fragment = form.length < MIN_FRAGMENT ? form.length : Math.max(MIN_FRAGMENT, Math.ceil(form.length / 3));
        const known = this.needles.get(form);
        this.needles.set(form, known === undefined ? fragment : Math.min(known, fragment));
      }
    }
    return this;
  }

  addAll(values: Iterable<string | undefined>): this {
    for (const value of values) this.add(value);
    return this;
  }

  /** How many distinct values (in all their forms) it knows: 0 means redact() is the identity. */
  get size(): number {
    return this.needles.size + this.shortValues.size;
  }

  redact(text: string): string {
    if (!text || !this.size) return text;
    const runs: Array<[number, number]> = [];
    for (const [needle, fragment] of this.needles) collectRuns(text, needle, fragment, runs);
    for (const m of text.matchAll(this.short())) runs.push([m.index! + m[1].length, m.index! + m[0].length]);
    if (!runs.length) return text;
    runs.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = '';
    let at = 0;
    let end = -1;
    for (const [s, e] of runs) {
      if (s > end) {
        if (end >= 0) out += MASK;
        out += text.slice(at, s);
        end = e;
      } else end = Math.max(end, e);
      at = end;
    }
    return out + MASK + text.slice(at);
  }

  /** Every string of a JSON-like value redacted (object keys too: an env name is never a secret, but a map keyed by values could be). */
  redactDeep<T>(value: T): T {
    if (!this.size) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.redact(k), walk(x)]));
      }
      return v;
    };
    return walk(value) as T;
  }

  private short(): RegExp {
    if (this.shortPattern) return this.shortPattern;
    const alternatives = [...this.shortValues].sort((a, b) => b.length - a.length).map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // After `=` or `:` (optionally a quote or spaces), and not followed by a word character: the whole value.
    this.shortPattern = alternatives.length
      ? new RegExp(`([=:]\\s*["']?)(?:${alternatives.join('|')})(?![\\w-])`, 'g')
      : /(?!)/g;
    return this.shortPattern;
  }
}

/**
 * Runs of `text` that are `needle`, or a prefix or suffix of it of at least `fragment` characters: a
 * prefix grows from an occurrence of the needle's head, a suffix from an occurrence of its tail.
 */
function collectRuns(text: string, needle: string, fragment: number, runs: Array<[number, number]>): void {
  const head = needle.slice(0, fragment);
  for (let i = text.indexOf(head); i >= 0; i = text.indexOf(head, i + 1)) {
    let n = fragment;
    while (n < needle.length && i + n < text.length && text[i + n] === needle[n]) n++;
    runs.push([i, i + n]);
  }
  if (fragment === needle.length) return;
  const tail = needle.slice(-fragment);
  for (let i = text.indexOf(tail); i >= 0; i = text.indexOf(tail, i + 1)) {
    const end = i + fragment;
    let n = fragment;
    while (n < needle.length && end - n - 1 >= 0 && text[end - n - 1] === needle[needle.length - n - 1]) n++;
    runs.push([end - n, end]);
  }
}
