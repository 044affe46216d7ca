// The port, with the small reads of one never-started container shared: each of its paths is stat'ed
// and read at most once per audit. That container's files cannot change (nothing runs in it), and each
// archive read costs the daemon a helper process (~150 ms of its CPU on 2 cores, docs/bench.md), so two
// checks that read the same file (the app's package.json: engines-node and no-dev-dependencies) share
// one read. Reads of any other container, and streamed archives, go to the port as they are.
import type { CallOptions, DockerPort, PathStat } from './port.js';

/** `sharedId`: the container whose reads are shared, once it exists. */
export function sharingReadsOf(docker: DockerPort, sharedId: () => string | undefined): DockerPort {
  const reads = new Map<string, Promise<Buffer | undefined>>();
  const stats = new Map<string, Promise<PathStat | undefined>>();
  // A read that failed is not kept: the caller's retry reads again.
  const once = <T>(kept: Map<string, Promise<T>>, path: string, read: () => Promise<T>): Promise<T> => {
    let pending = kept.get(path);
    if (!pending) {
      pending = read();
      kept.set(path, pending);
      pending.catch(() => kept.delete(path));
    }
    return pending;
  };
  const shared: Pick<DockerPort, 'readFile' | 'statPath'> = {
    readFile: (id: string, path: string, options?: CallOptions) => (id === sharedId() ? once(reads, path, () => docker.readFile(id, path, options)) : docker.readFile(id, path, options)),
    statPath: (id: string, path: string, options?: CallOptions) => (id === sharedId() ? once(stats, path, () => docker.statPath(id, path, options)) : docker.statPath(id, path, options)),
  };
  return new Proxy(docker, {
    get(target, key) {
      if (key === 'readFile' || key === 'statPath') return shared[key];
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
