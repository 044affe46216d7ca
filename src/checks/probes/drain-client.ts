// The traffic client of graceful-drain. It runs in a sidecar container that shares only the app's
// network namespace (a node talking to 127.0.0.1:PORT, never a bridge address), so it outlives the
// app's exit, and reports each event as one JSON line on stdout, as it happens.
//   argv: PORT PATH BUDGET_MS
//   events: sent/answered/dropped/refused (per request), fin/reset/closed (per socket), ready, census,
//   setup-failed, bye. `t` is ms since the client started. A request's `sent` says `fresh` when it
//   opened a new connection; a `dropped` says `noResponse` when not one response byte came.
export const DRAIN_CLIENT = String.raw`
const http = require('http'), net = require('net');
const port = Number(process.argv[1]), path = process.argv[2], budgetMs = Number(process.argv[3]);
const IDLE = 3, INFLIGHT = 2, HOT_EVERY_MS = 50, SETUP_MS = 15000;
const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);
const emit = (o) => process.stdout.write(JSON.stringify(Object.assign({ t: now() }, o)) + '\n');
const open = new Set();
const pending = new Set();
let nextId = 0, hotSockets = 0, hotStopped = false, ready = false, hotFirst;
const hotAnswered = new Promise((r) => (hotFirst = r));
function watch(name, socket) {
  open.add(name);
  socket.on('end', () => emit({ e: 'fin', s: name }));
  socket.on('error', (err) => emit({ e: 'reset', s: name, code: err.code || err.message }));
  socket.on('close', () => { open.delete(name); emit({ e: 'closed', s: name }); settleCheck(); });
}
function request(name, agent) {
  return new Promise((resolve) => {
    const id = ++nextId;
    let settled = false, written = false;
    const done = (event) => {
      if (settled) return;
      settled = true;
      pending.delete(id);
      emit(Object.assign({ id, s: name }, event));
      resolve(event.e === 'answered');
      settleCheck();
    };
    const req = http.request({ host: '127.0.0.1', port, path, agent, headers: { 'user-agent': 'image-audit-drain' } });
    req.on('socket', (socket) => {
      if (socket.auditName) return;
      socket.auditName = name === 'hot' ? 'hot-' + (++hotSockets) : name;
      watch(socket.auditName, socket);
    });
    req.on('finish', () => { written = true; pending.add(id); emit(Object.assign({ e: 'sent', id, s: req.socket && req.socket.auditName || name }, req.reusedSocket ? {} : { fresh: true })); });
    req.on('response', (res) => {
      res.on('data', () => {});
      res.on('end', () => done({ e: 'answered', status: res.statusCode }));
      res.on('close', () => { if (!res.complete) done({ e: 'dropped', code: 'truncated response' }); });
      res.on('error', (err) => done({ e: 'dropped', code: err.code || err.message }));
    });
    // A reset of a request written on a reused keep-alive socket, before any response byte, is the
    // keep-alive race every client must retry (RFC 9112 section 9.3.1; Node's req.reusedSocket): not a drop.
    req.on('error', (err) => done(Object.assign({ e: err.code === 'ECONNREFUSED' || !written ? 'refused' : req.reusedSocket && !req.res && err.code === 'ECONNRESET' ? 'retryable' : 'dropped', code: err.code || err.message }, req.res ? {} : { noResponse: true })));
    req.end();
  });
}
function settleCheck() {
  if (ready && hotStopped && open.size === 0 && pending.size === 0) { emit({ e: 'bye', why: 'all closed' }); process.exit(0); }
}
async function hotLoop() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (!hotStopped) {
    const began = now();
    const answered = await request('hot', agent);
    if (answered) hotFirst();
    if (!answered && ready) { hotStopped = true; break; }
    await new Promise((r) => setTimeout(r, Math.max(0, HOT_EVERY_MS - (now() - began))));
  }
  settleCheck();
}
(async () => {
  const setup = setTimeout(() => { emit({ e: 'setup-failed', message: 'no answer within ' + SETUP_MS + ' ms' }); process.exit(0); }, SETUP_MS);
  const hot = hotLoop();
  const idle = await Promise.all(Array.from({ length: IDLE }, (_, i) => request('idle-' + (i + 1), new http.Agent({ keepAlive: true }))));
  if (!idle.every(Boolean)) { emit({ e: 'setup-failed', message: 'the warm-up requests got no answer on 127.0.0.1:' + port + path }); process.exit(0); }
  const silent = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => { silent.once('connect', resolve); silent.once('error', reject); });
  watch('silent', silent);
  await hotAnswered;
  for (let i = 1; i <= INFLIGHT; i++) request('inflight-' + i, false);
  await new Promise((r) => setTimeout(r, 100));
  clearTimeout(setup);
  ready = true;
  // The wall clock at "ready": the host's own clock, the one the daemon stamps its kill event with.
  emit({ e: 'ready', budgetMs, t: now(), wall: Date.now() });
  setTimeout(() => emit({ e: 'census', open: [...open], pending: pending.size }), Math.max(200, budgetMs - 300));
  setTimeout(() => { emit({ e: 'bye', why: 'bound' }); process.exit(0); }, budgetMs + 3000);
  void hot;
})().catch((err) => { emit({ e: 'setup-failed', message: String(err && err.message || err) }); process.exit(0); });
`;

export type ClientEvent =
  | { t: number; e: 'sent'; id: number; s: string; fresh?: boolean }
  | { t: number; e: 'answered'; id: number; s: string; status: number }
  | { t: number; e: 'dropped' | 'refused' | 'retryable'; id: number; s: string; code: string; noResponse?: boolean }
  | { t: number; e: 'fin' | 'closed'; s: string }
  | { t: number; e: 'reset'; s: string; code: string }
  | { t: number; e: 'ready'; budgetMs: number; wall?: number }
  | { t: number; e: 'census'; open: string[]; pending: number }
  | { t: number; e: 'setup-failed'; message: string }
  | { t: number; e: 'bye'; why: string };
