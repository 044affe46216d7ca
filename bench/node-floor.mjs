#!/usr/bin/env node
// Row 1's observation done by the least a Node client can be: one process, node:http over the engine's
// unix socket, no library. It does what the floor's docker CLIs do (create and start the image with a
// 500 ms health interval, wait for healthy, stop it), but learns of healthy the way the audit does, from
// the daemon's event stream, instead of polling. The bench times it start to exit beside the floor and
// the audit: what it takes over the floor is what running in Node costs (the process's start, the http
// client); what the audit takes over it is the audit's own. Like the floor, it leaves the stopped
// container for the bench to remove.
//
//   node bench/node-floor.mjs IMAGE LABEL
//
// The engine: DOCKER_HOST when it is unix://…, else /var/run/docker.sock (the bench's engine).
import http from 'node:http';
import { ENGINE_SOCKET as socketPath, engineCall } from './engine-api.mjs';

const [image, label] = process.argv.slice(2);
if (!image || !label) throw new Error('usage: node bench/node-floor.mjs IMAGE LABEL');
const BOUND_MS = 60_000;
const bound = setTimeout(() => {
  console.error('node-floor: not healthy within 60 s');
  process.exit(1);
}, BOUND_MS);

/** One API call's JSON answer (undefined for an empty one); a status of 400 or more rejects. */
async function call(method, path, body) {
  const { status, body: answer } = await engineCall(method, path, body);
  const text = answer.toString('utf8');
  if (status >= 400) throw new Error(`${method} ${path}: ${status} ${text.trim()}`);
  return text ? JSON.parse(text) : undefined;
}

/** Resolves at the container's first health_status: healthy event (the stream is opened before the start). */
function healthy(id, since) {
  return new Promise((resolve, reject) => {
    const filters = encodeURIComponent(JSON.stringify({ type: ['container'], container: [id], event: ['health_status'] }));
    const req = http.get({ socketPath, path: `/events?since=${since}&filters=${filters}` }, (res) => {
      let buffered = '';
      res.on('data', (c) => {
        buffered += c;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const event = JSON.parse(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          if (event.status === 'health_status: healthy') {
            req.destroy();
            resolve();
          }
        }
      });
    });
    req.on('error', (err) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
  });
}

// As `docker run -d --health-interval=500ms IMAGE`: the daemon fills the rest of the health check from the image.
const since = Math.floor(Date.now() / 1000);
const { Id: id } = await call('POST', '/containers/create', { Image: image, Labels: { [label]: '' }, Healthcheck: { Interval: 500_000_000 } });
const becameHealthy = healthy(id, since);
await call('POST', `/containers/${id}/start`);
await becameHealthy;
await call('POST', `/containers/${id}/stop`);
clearTimeout(bound);
