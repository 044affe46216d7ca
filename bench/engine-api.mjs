// One Engine API call over the daemon's unix socket, with node:http alone (the bench scripts that talk
// to the daemon without the product: the CPU profile, the node floor). Resolves with the status and the
// whole body once the answer has been read.
import http from 'node:http';

/** The engine the bench scripts talk to: DOCKER_HOST when it is unix://…, else the default socket. */
export const ENGINE_SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';

export function engineCall(method, path, body, socketPath = ENGINE_SOCKET) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {};
    const req = http.request({ socketPath, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
