// A report that cannot be written is one clear line and exit 3, never a stack trace, never a pass.
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('a report written to a full disk', () => {
  it('exits 3 with one line naming the file and the cause (-o /dev/full)', async () => {
    const run = await runCli([inject('nodeImage'), '--only', 'size-budget', '--format', 'json', '-o', '/dev/full']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('image-audit: Could not write the report to /dev/full: no space left on the device (ENOSPC)');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
  it('exits 3 the same way for a --report file', async () => {
    const run = await runCli([inject('nodeImage'), '--only', 'size-budget', '--report', 'junit=/dev/full']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain('Could not write the report to /dev/full');
  });
});
