// Go's regexp syntax (RE2, regexp.Compile's Perl flags) as a JavaScript RegExp (u flag), for the regular
// expressions moby's pattern matcher compiles a .dockerignore pattern to. A user's pattern reaches the
// expression through `\` escapes, `[ ]` classes and `^`; those keep Go's meaning here (`\d` is a digit,
// `[[:alpha:]]` a letter, `\q` or a reversed range an error), which a JavaScript regexp would read
// otherwise. Ported from Go's src/regexp/syntax/parse.go (parse, parseEscape, parseClass,
// parseNamedClass, parsePerlClassEscape, parseUnicodeClass).
import { BadPatternError } from './go-path.js';

type Range = [number, number];

const MAX_RUNE = 0x10ffff;
const PERL_CLASSES: Record<string, Range[]> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};
const POSIX_CLASSES: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
/** Go's unicode.Categories; any other name is a script (unicode.Scripts). */
const CATEGORIES = new Set('C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '));

const complement = (ranges: Range[]): Range[] => {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
};
const rangesSource = (ranges: Range[]) => ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
const hex = (cp: number) => `\\u{${cp.toString(16)}}`;
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
const literal = (cp: number) => (JS_SYNTAX.has(String.fromCodePoint(cp)) ? `\\${String.fromCodePoint(cp)}` : String.fromCodePoint(cp));
const isOctal = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '7';
const isHex = (ch: string | undefined) => ch !== undefined && /^[0-9A-Fa-f]$/.test(ch);

/** regexp.Compile(source) as a JavaScript RegExp; what Go refuses throws BadPatternError. */
export function goRegexp(source: string): RegExp {
  const t = [...source];
  let at = 0;
  let out = '';

  /** parseEscape: the character of a `\` escape (t[at] is the backslash). */
  const escape = (): number => {
    const c = t[at + 1];
    if (c === undefined) throw new BadPatternError('it ends with a lone \\ (a literal \\ is written \\\\)');
    at += 2;
    const code = c.codePointAt(0)!;
    if (code < 0x80 && !/[0-9A-Za-z]/.test(c)) return code;
    if (c >= '1' && c <= '7' && !isOctal(t[at])) throw new BadPatternError(`\\${c} is a back-reference, which Docker's regexp does not support`);
    if (c >= '0' && c <= '7') {
      let r = code - 0x30;
      for (let i = 1; i < 3 && isOctal(t[at]); i++) r = r * 8 + t[at++].codePointAt(0)! - 0x30;
      return r;
    }
    if (c === 'x') {
      if (t[at] === '{') {
        let digits = '';
        let i = at + 1;
        for (; isHex(t[i]); i++) digits += t[i];
        const r = Number.parseInt(digits, 16);
        if (t[i] !== '}' || !digits || r > MAX_RUNE) throw new BadPatternError(`\\x{${digits} is not a valid \\x{…} escape`);
        at = i + 1;
        return r;
      }
      if (!isHex(t[at]) || !isHex(t[at + 1])) throw new BadPatternError('\\x must be followed by two hex digits');
      at += 2;
      return Number.parseInt(t[at - 2] + t[at - 1], 16);
    }
    const controls: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (Object.hasOwn(controls, c)) return controls[c];
    throw new BadPatternError(`\\${c} is not an escape Docker's regexp knows (a literal ${c} is written without \\)`);
  };

  /** \d \D \s \S \w \W, as Go's ASCII ranges; undefined when t[at] starts no such escape. */
  const perlClass = (): Range[] | undefined => {
    const c = t[at + 1];
    if (t[at] !== '\\' || c === undefined || !Object.hasOwn(PERL_CLASSES, c.toLowerCase())) return undefined;
    at += 2;
    const ranges = PERL_CLASSES[c.toLowerCase()];
    return c === c.toLowerCase() ? ranges : complement(ranges);
  };

  /** \pL, \p{Greek}, \P{…}, \p{^…} as JavaScript's \p{…}; undefined when t[at] starts none. */
  const unicodeClass = (): string | undefined => {
    if (t[at] !== '\\' || (t[at + 1] !== 'p' && t[at + 1] !== 'P')) return undefined;
    let negated = t[at + 1] === 'P';
    let name: string;
    if (t[at + 2] === undefined) throw new BadPatternError(`\\${t[at + 1]} needs a class name`);
    if (t[at + 2] !== '{') {
      name = t[at + 2];
      at += 3;
    } else {
      const end = t.indexOf('}', at + 3);
      if (end < 0) throw new BadPatternError(`\\${t[at + 1]}{ is not closed with }`);
      name = t.slice(at + 3, end).join('');
      at = end + 1;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const property = name === 'Any' ? 'Any' : CATEGORIES.has(name) ? name : `Script=${name}`;
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  };

  const parseClass = (): string => {
    at++; // [
    let negated = false;
    if (t[at] === '^') {
      negated = true;
      at++;
    }
    let body = '';
    for (let first = true; at >= t.length || t[at] !== ']' || first; first = false) {
      if (at >= t.length) throw new BadPatternError('the [ class is not closed with ] (Docker compiles the pattern to a regexp, where [:name:] is a class of its own)');
      // parseNamedClass: [:alpha:], [:^alpha:]; without a closing :] the [ is a plain character.
      if (t[at] === '[' && t[at + 1] === ':') {
        const rest = t.slice(at + 2);
        const close = rest.findIndex((c, i) => c === ':' && rest[i + 1] === ']');
        if (close >= 0) {
          const name = rest.slice(0, close).join('');
          const bare = name.replace(/^\^/, '');
          if (!Object.hasOwn(POSIX_CLASSES, bare)) throw new BadPatternError(`[:${name}:] is not a POSIX class Docker's regexp knows`);
          body += rangesSource(name.startsWith('^') ? complement(POSIX_CLASSES[bare]) : POSIX_CLASSES[bare]);
          at += 2 + close + 2;
          continue;
        }
      }
      const unicode = unicodeClass();
      if (unicode) {
        body += unicode;
        continue;
      }
      const perl = perlClass();
      if (perl) {
        body += rangesSource(perl);
        continue;
      }
      const lo = classChar();
      let hi = lo;
      if (t[at] === '-' && t[at + 1] !== undefined && t[at + 1] !== ']') {
        at++;
        hi = classChar();
        if (hi < lo) throw new BadPatternError(`the range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)} is reversed`);
      }
      body += rangesSource([[lo, hi]]);
    }
    at++; // ]
    return `[${negated ? '^' : ''}${body}]`;
  };

  const classChar = (): number => {
    if (at >= t.length) throw new BadPatternError('the [ class is not closed with ]');
    if (t[at] === '\\') return escape();
    return t[at++].codePointAt(0)!;
  };

  while (at < t.length) {
    const ch = t[at];
    if (ch === '\\') {
      const next = t[at + 1];
      const anchors: Record<string, string> = { A: '^', z: '$', b: '\\b', B: '\\B' };
      if (next !== undefined && Object.hasOwn(anchors, next)) {
        out += anchors[next];
        at += 2;
      } else if (next === 'C') {
        throw new BadPatternError("\\C is not an escape Docker's regexp supports");
      } else if (next === 'Q') {
        // \Q…\E: literal text, to \E or to the end (the matcher's own closing $ included).
        const rest = t.slice(at + 2).join('');
        const end = rest.indexOf('\\E');
        const text = end >= 0 ? rest.slice(0, end) : rest;
        for (const c of text) out += literal(c.codePointAt(0)!);
        at += 2 + [...text].length + (end >= 0 ? 2 : 0);
      } else {
        const unicode = unicodeClass();
        const perl = unicode ? undefined : perlClass();
        out += unicode ?? (perl ? `[${rangesSource(perl)}]` : literal(escape()));
      }
    } else if (ch === '[') {
      out += parseClass();
    } else if (ch === ']') {
      // A ] outside a class is a plain character to Go; JavaScript's u flag refuses it unescaped.
      out += '\\]';
      at++;
    } else if (ch === '.') {
      // Go's . is any character but \n; JavaScript's also leaves out \r, U+2028 and U+2029.
      out += '[^\\n]';
      at++;
    } else if ('^$()|*+?'.includes(ch)) {
      out += ch;
      at++;
    } else {
      out += literal(ch.codePointAt(0)!);
      at++;
    }
  }
  try {
    return new RegExp(out, 'u');
  } catch (err) {
    throw new BadPatternError(`Docker's regexp cannot compile it (${(err as Error).message})`);
  }
}
