// Runs vitest in a child process and reads its JSON reporter output: how our tests see the suites as
// a CI would.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{ assertionResults: Array<{ title: string; fullName: string; status: string; failureMessages: string[] }> }>;
}

export interface VitestRun {
  code: number | null;
  output: string;
  json: VitestJson;
  /** title → status, for every test */
  statuses: Record<string, string>;
  failures: Record<string, string>;
}

/** The child must not think it is a worker of the vitest that runs this test. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(VITEST|TINYPOOL)/.test(key) && key !== 'NODE_OPTIONS') env[key] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

export async function runVitest(cwd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<VitestRun> {
  const outputFile = path.join(mkdtempSync(path.join(tmpdir(), 'vitest-json-')), 'results.json');
  const child = spawn('npx', ['vitest', 'run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${outputFile}`], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (c) => {
      clearTimeout(killer);
      resolve(c);
    });
  });
  let json: VitestJson;
  try {
    json = JSON.parse(readFileSync(outputFile, 'utf8'));
  } catch {
    throw new Error(`vitest wrote no JSON report (exit ${code}):\n${output}`);
  }
  const statuses: Record<string, string> = {};
  const failures: Record<string, string> = {};
  for (const file of json.testResults) {
    for (const test of file.assertionResults) {
      statuses[test.title] = test.status;
      if (test.failureMessages.length) failures[test.title] = test.failureMessages.join('\n');
    }
  }
  return { code, output, json, statuses, failures };
}
