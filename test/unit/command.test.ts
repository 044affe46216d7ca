import { describe, expect, it } from 'vitest';
import { locateApp } from '../../src/facts/app-location.js';
import { analyseCommand } from '../../src/facts/command.js';

describe('analyseCommand', () => {
  it('finds the script below dumb-init', () => {
    expect(analyseCommand(['dumb-init', '--'], ['node', 'dist/index.js'])).toMatchObject({ entryScript: 'dist/index.js', launcher: 'node', shellForm: false });
  });
  it('skips node flags, with and without values', () => {
    expect(analyseCommand([], ['node', '--enable-source-maps', '-r', 'dotenv/config', 'server.js']).entryScript).toBe('server.js');
  });
  it('sees through shell form', () => {
    expect(analyseCommand([], ['/bin/sh', '-c', 'node src/index.js'])).toMatchObject({ entryScript: 'src/index.js', shellForm: true });
    expect(analyseCommand(['/bin/sh', '-c', 'exec node app.js'], [])).toMatchObject({ entryScript: 'app.js', shellForm: true });
  });
  it('sees through tini with options', () => {
    expect(analyseCommand(['/sbin/tini', '-s', '-g', '--'], ['node', 'a.js']).entryScript).toBe('a.js');
  });
  it('knows npm start has no script of its own', () => {
    const command = analyseCommand([], ['npm', 'start']);
    expect(command.launcher).toBe('npm');
    expect(command.entryScript).toBeUndefined();
  });
});

describe('locateApp', () => {
  const tree = new Map<string, boolean>([
    ['/opt/node_app/node_modules', true],
    ['/opt/node_app/package.json', false],
    ['/opt/node_app/package-lock.json', false],
    ['/opt/node_app/app/src/index.js', false],
    ['/srv/dist', true],
    ['/srv/package.json', false],
  ]);
  const stat = async (p: string) => (tree.has(p) ? { isDirectory: tree.get(p)! } : undefined);

  it('resolves node_modules, package.json and lockfile upward from the entry script', async () => {
    const location = await locateApp(analyseCommand([], ['node', 'src/index.js']), '/opt/node_app/app', stat);
    expect(location).toMatchObject({
      entryScript: '/opt/node_app/app/src/index.js',
      startDir: '/opt/node_app/app/src',
      installRoot: '/opt/node_app',
      packageJson: '/opt/node_app/package.json',
      lockfile: '/opt/node_app/package-lock.json',
    });
  });
  it('starts inside a folder given as the script', async () => {
    const location = await locateApp(analyseCommand([], ['node', 'dist']), '/srv', stat);
    expect(location).toMatchObject({ startDir: '/srv/dist', packageJson: '/srv/package.json' });
    expect(location.installRoot).toBeUndefined();
  });
  it('starts at WORKDIR for npm start', async () => {
    const location = await locateApp(analyseCommand([], ['npm', 'start']), '/opt/node_app', stat);
    expect(location).toMatchObject({ startDir: '/opt/node_app', installRoot: '/opt/node_app' });
  });
});
