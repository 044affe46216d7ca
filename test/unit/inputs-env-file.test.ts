import { describe, expect, it } from 'vitest';
import { parseAssignments, parseEnvFile } from '../../src/config/env-file.js';
import { usageProblem } from '../support/usage-error.js';

const problem = usageProblem;

describe('parseEnvFile (dotenv style)', () => {
  it('reads KEY=VALUE, export KEY=VALUE, quoted values and comments', () => {
    const text = [
      '\uFEFF# app config',
      'DATABASE_URL=postgres://db/app',
      'export API_KEY=abc123',
      '  export   SPACED = padded value  ',
      'GREETING="a b"',
      "SINGLE='x \\n y'",
      'ESCAPED="line1\\nline2 \\"q\\""',
      'WITH_COMMENT=value # a comment',
      'HASH_IN_VALUE=pa#ss',
      'QUOTED_COMMENT="v" # trailing',
      'EMPTY=',
      '',
      '   # indented comment',
    ].join('\r\n');
    expect(parseEnvFile(text, 'app.env')).toEqual({
      DATABASE_URL: 'postgres://db/app',
      API_KEY: 'abc123',
      SPACED: 'padded value',
      GREETING: 'a b',
      SINGLE: 'x \\n y',
      ESCAPED: 'line1\nline2 "q"',
      WITH_COMMENT: 'value',
      HASH_IN_VALUE: 'pa#ss',
      QUOTED_COMMENT: 'v',
      EMPTY: '',
    });
  });

  it('takes a bare KEY from our own environment, as docker run does', () => {
    process.env.IMAGE_AUDIT_TEST_INHERITED = 'from-here';
    expect(parseEnvFile('IMAGE_AUDIT_TEST_INHERITED\nIMAGE_AUDIT_TEST_ABSENT\n', 'x.env')).toEqual({ IMAGE_AUDIT_TEST_INHERITED: 'from-here' });
  });

  it('names the file and line of a bad line, never its value', () => {
    const secret = 'postgres://admin:s3cr3t@db/app';
    expect(problem(() => parseEnvFile(`OK=1\n${secret}\n`, 'app.env'))).toBe('Bad variable at app.env:2: not a KEY=VALUE assignment');
    expect(problem(() => parseEnvFile(`OK=1\n${secret}?password=s3cr3t\n`, 'app.env'))).toBe('Bad variable at app.env:2: the text before "=" is not a variable name (letters, digits, _ . -, not starting with a digit)');
    expect(problem(() => parseEnvFile(`1KEY=${secret}`, 'app.env'))).toBe('Bad variable at app.env:1: "1KEY" is not a variable name (letters, digits, _ . -, not starting with a digit)');
    expect(problem(() => parseEnvFile(`s3cr3t token without equals sign`, 'app.env'))).toBe('Bad variable at app.env:1: not a KEY=VALUE assignment');
    expect(problem(() => parseEnvFile(`=${secret}`, 'app.env'))).toBe('Bad variable at app.env:1: the name before "=" is empty');
    expect(problem(() => parseEnvFile(`TOKEN="${secret}`, 'app.env'))).toBe('Bad variable TOKEN at app.env:1: the quoted value has no closing quote (a value is one line)');
    expect(problem(() => parseEnvFile(`TOKEN="${secret}"junk`, 'app.env'))).toBe('Bad variable TOKEN at app.env:1: text after the closing quote');
  });
});

describe('parseAssignments (--env, --build-arg)', () => {
  it('keeps the value verbatim, as docker run -e does', () => {
    expect(parseAssignments(['A=1', 'B= spaced ', 'C="q"', 'A=2'], '--env')).toEqual({ A: '2', B: ' spaced ', C: '"q"' });
  });
  it('names the item by its position, never its value', () => {
    const message = problem(() => parseAssignments(['OK=1', 'my password=hunter2'], '--env'));
    expect(message).toBe('Bad variable in --env #2: the text before "=" is not a variable name (letters, digits, _ . -, not starting with a digit)');
    expect(message).not.toContain('hunter2');
  });
});
