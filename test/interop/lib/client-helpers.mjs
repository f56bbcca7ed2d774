// Shared helpers for the client-*.test.mjs interop tests: they drive the
// official socket.io-client against a server started by ../server.mjs.
// Every wait is bounded; every client made here is tracked so that
// closeAll() (called from afterEach) leaves no handle open.
import { io, Manager } from 'socket.io-client';

export { io, Manager };

// The transport combinations the transport-dependent scenarios run over.
export const transportSets = [['websocket'], ['polling'], ['polling', 'websocket']];

export const tname = (transports) => transports.join('+');

const tracked = new Set();

// track registers a client Socket or a Manager for closeAll().
export function track(x) {
  tracked.add(x);
  return x;
}

// closeAll disconnects every tracked socket and closes every manager.
export function closeAll() {
  for (const x of tracked) {
    try {
      if (x instanceof Manager) {
        x._close();
      } else {
        x.disconnect();
        x.io._close();
      }
    } catch { /* already closed */ }
  }
  tracked.clear();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// withTimeout rejects when p does not settle within ms.
export function withTimeout(p, ms, what = 'operation') {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// waitFor resolves with the argument list of the next `event` on emitter
// (a client Socket, Manager or engine), or rejects after ms.
export function waitFor(emitter, event, ms = 2000, filter = () => true) {
  let handler;
  const p = new Promise((resolve) => {
    handler = (...args) => {
      if (!filter(...args)) return;
      emitter.off(event, handler);
      resolve(args);
    };
    emitter.on(event, handler);
  });
  return withTimeout(p, ms, `event "${event}"`).finally(() => emitter.off(event, handler));
}

// expectNo resolves after ms if `event` did not fire on emitter, rejects otherwise.
export async function expectNo(emitter, event, ms) {
  const got = [];
  const handler = (...args) => got.push(args);
  emitter.on(event, handler);
  await sleep(ms);
  emitter.off(event, handler);
  if (got.length) throw new Error(`unexpected "${event}": ${JSON.stringify(got)}`);
}

// collect records the argument lists of every `event` on socket.
export function collect(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

// client creates a tracked client Socket (forceNew, no reconnection) without
// waiting for it to connect. path is the namespace ("/" by default).
export function client(url, opts = {}, nsp = '/') {
  const sock = io(url + (nsp === '/' ? '' : nsp), {
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    ...opts,
  });
  track(sock);
  return sock;
}

// connect creates a client and resolves once it is connected; it rejects on
// connect_error (with that error) or after ms.
export async function connect(url, opts = {}, nsp = '/', ms = 5000) {
  const sock = client(url, opts, nsp);
  await connected(sock, ms);
  return sock;
}

// connected waits for an existing socket to connect.
export function connected(sock, ms = 5000) {
  if (sock.connected) return Promise.resolve(sock);
  let onConnect; let onError; let onDisconnect;
  const p = new Promise((resolve, reject) => {
    onConnect = () => resolve(sock);
    onError = (err) => reject(err);
    onDisconnect = (reason) => reject(new Error(`${sock.nsp} closed before it connected: ${reason}`));
    sock.once('connect', onConnect);
    sock.once('connect_error', onError);
    sock.once('disconnect', onDisconnect);
  });
  return withTimeout(p, ms, `connect of ${sock.nsp}`).finally(() => {
    sock.off('connect', onConnect);
    sock.off('connect_error', onError);
    sock.off('disconnect', onDisconnect);
  });
}

// connectError creates a client that is expected to fail: it resolves with the
// connect_error and rejects if the client connects or nothing happens within ms.
export async function connectError(url, opts = {}, nsp = '/', ms = 3000) {
  const sock = client(url, opts, nsp);
  return connectErrorOf(sock, ms);
}

export function connectErrorOf(sock, ms = 3000) {
  let onConnect; let onError;
  const p = new Promise((resolve, reject) => {
    onConnect = () => reject(new Error(`${sock.nsp} connected, expected connect_error`));
    onError = (err) => resolve(err);
    sock.once('connect', onConnect);
    sock.once('connect_error', onError);
  });
  return withTimeout(p, ms, `connect_error of ${sock.nsp}`).finally(() => {
    sock.off('connect', onConnect);
    sock.off('connect_error', onError);
  });
}

// ack emits event with args and an ack; it resolves with the ack's argument
// list, or rejects after ms.
export function ack(sock, event, args = [], ms = 5000) {
  return new Promise((resolve, reject) => {
    sock.timeout(ms).emit(event, ...args, (err, ...res) => {
      if (err) reject(new Error(`no ack for "${event}" within ${ms} ms: ${err.message}`));
      else resolve(res);
    });
  });
}

// emitWithAck resolves with the first argument of the ack, or rejects after ms.
export async function emitWithAck(sock, event, ...args) {
  const [first] = await ack(sock, event, args);
  return first;
}

// upgraded resolves once the socket's engine runs over websocket (via the
// engine's "upgrade" event when it does not yet).
export async function upgraded(sock, ms = 3000) {
  const engine = sock.io.engine;
  if (engine.transport && engine.transport.name === 'websocket') return engine.transport.name;
  await waitFor(engine, 'upgrade', ms);
  return engine.transport.name;
}

// observer connects a client to "/" that joined room "observers"; gone(id)
// resolves with the first "gone" report about socket id.
export async function observer(url, opts = {}) {
  const sock = await connect(url, opts);
  await ack(sock, 'observe');
  const seen = [];
  const waiters = [];
  sock.on('gone', (info) => {
    seen.push(info);
    for (const w of [...waiters]) if (w.id === info.id) { waiters.splice(waiters.indexOf(w), 1); w.resolve(info); }
  });
  sock.gone = (id, ms = 3000) => {
    const already = seen.find((s) => s.id === id);
    if (already) return Promise.resolve(already);
    let w;
    const p = new Promise((resolve) => { w = { id, resolve }; waiters.push(w); });
    return withTimeout(p, ms, `"gone" report for ${id}`).finally(() => {
      const i = waiters.indexOf(w);
      if (i >= 0) waiters.splice(i, 1);
    });
  };
  sock.seen = seen;
  return sock;
}

// normalize turns any binary the client decoded (Buffer, ArrayBuffer,
// typed array) to a Buffer, recursively, so results compare with deepEqual.
export function normalize(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = normalize(x);
    return o;
  }
  return v;
}

export const rand = () => Math.random().toString(36).slice(2, 10);

// stopServer closes every client, stops the server and, with
// INTEROP_SHOWLOG=1, prints what the server wrote to stderr.
export async function stopServer(server) {
  closeAll();
  if (!server) return;
  await server.stop();
  if (process.env.INTEROP_SHOWLOG) process.stderr.write(server.output());
}
