// Raw Engine.IO v4 / Socket.IO v5 wire helpers for the protocol conformance
// tests (engine-*.test.mjs). They speak the protocol by hand: HTTP
// long-polling with fetch, WebSocket with the `ws` package. Every wait has a
// timeout, and every socket or request opened here is tracked so that
// closeAll() can end whatever a test left behind.
import WebSocket from 'ws';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Record separator between packets of a polling payload. */
export const SEP = '\x1e';

const openSockets = new Set();
const pendingRequests = new Set();

/** Rejects with an Error(label) when `promise` does not settle within ms. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/**
 * URL of the Engine.IO endpoint. query values replace the defaults
 * EIO=4&transport=polling; a value of null or undefined removes the key.
 */
export function eioUrl(base, query = {}, path = '/socket.io/') {
  const q = { EIO: '4', transport: 'polling', ...query };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== null && v !== undefined) params.append(k, String(v));
  return `${base}${path}?${params}`;
}

/**
 * One HTTP request through fetch. Resolves with
 * { status, headers (a Headers), contentType, body (text) }; rejects on
 * timeout or when opts.signal aborts.
 */
export async function request(url, { method = 'GET', body, headers = {}, timeout = 5000, signal } = {}) {
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal.reason);
  if (signal) {
    if (signal.aborted) ac.abort(signal.reason);
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  const timer = setTimeout(() => ac.abort(new Error(`timeout after ${timeout} ms: ${method} ${url}`)), timeout);
  pendingRequests.add(ac);
  const t0 = Date.now();
  try {
    const res = await fetch(url, { method, body, headers, signal: ac.signal, redirect: 'manual' });
    const text = await res.text();
    if (process.env.RAW_DEBUG) console.error(`[raw] ${method} ${url} -> ${res.status} ${JSON.stringify(text.slice(0, 60))} in ${Date.now() - t0} ms`);
    return { status: res.status, headers: res.headers, contentType: res.headers.get('content-type'), body: text };
  } catch (err) {
    if (ac.signal.aborted && ac.signal.reason instanceof Error) throw ac.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    pendingRequests.delete(ac);
    if (signal) signal.removeEventListener('abort', onAbort);
  }
}

/** Splits a polling payload into its encoded packets (strings). */
export function splitPayload(payload) {
  return payload === '' ? [] : payload.split(SEP);
}

/**
 * Decodes one encoded Engine.IO packet (string, as found in a polling
 * payload or a ws text frame; a Buffer is a ws binary frame).
 * Returns { type: 'open'|'close'|'ping'|'pong'|'message'|'upgrade'|'noop'|'error', data, binary }.
 */
const TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
export function decodePacket(encoded) {
  if (typeof encoded !== 'string') return { type: 'message', data: Buffer.from(encoded), binary: true };
  if (encoded[0] === 'b') return { type: 'message', data: Buffer.from(encoded.slice(1), 'base64'), binary: true };
  const type = TYPES[Number(encoded[0])];
  if (!type || encoded.length === 0) return { type: 'error', data: encoded, binary: false };
  return { type, data: encoded.length > 1 ? encoded.slice(1) : undefined, binary: false };
}

/** Decodes a polling payload into packets (see decodePacket). */
export function decodePayload(payload) {
  return splitPayload(payload).map(decodePacket);
}

/**
 * Encodes a polling payload: strings are taken as already-encoded packets,
 * Buffers / Uint8Arrays become `b` + base64.
 */
export function encodePayload(packets) {
  return packets.map((p) => (typeof p === 'string' ? p : 'b' + Buffer.from(p).toString('base64'))).join(SEP);
}

/**
 * Polling handshake. Resolves with the response plus { open, sid } where
 * open is the parsed JSON of the `0{...}` packet (undefined when the answer
 * is not an open packet).
 */
export async function handshake(base, { query = {}, headers = {}, timeout = 5000 } = {}) {
  const res = await request(eioUrl(base, query), { headers, timeout });
  const packets = res.status === 200 ? splitPayload(res.body) : [];
  let open;
  if (packets[0] && packets[0][0] === '0') open = JSON.parse(packets[0].slice(1));
  return { ...res, packets, open, sid: open?.sid };
}

/** One long-polling GET for sid. Resolves with the response plus `packets` (encoded strings). */
export async function poll(base, sid, { query = {}, headers = {}, timeout = 5000, signal } = {}) {
  const res = await request(eioUrl(base, { sid, ...query }), { headers, timeout, signal });
  return { ...res, packets: res.status === 200 ? splitPayload(res.body) : [] };
}

/**
 * POSTs a payload for sid. payload: a string (sent as is) or an array of
 * packets (see encodePayload).
 */
export async function post(base, sid, payload, { query = {}, headers = {}, timeout = 5000 } = {}) {
  const body = Array.isArray(payload) ? encodePayload(payload) : payload;
  return request(eioUrl(base, { sid, ...query }), {
    method: 'POST', body, timeout, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers },
  });
}

/**
 * Starts a GET for sid without awaiting it: returns { promise, abort }.
 * promise resolves like poll() (or rejects when aborted / timed out).
 */
export function startPoll(base, sid, opts = {}) {
  const ac = new AbortController();
  const promise = poll(base, sid, { ...opts, signal: ac.signal });
  promise.catch(() => {}); // handled by whoever awaits it
  return { promise, abort: () => ac.abort(new Error('poll aborted by the test')) };
}

/**
 * Polls sid until `count` packets matching `filter` have arrived (pings are
 * answered with a pong and dropped when autoPong). Resolves with those
 * packets (encoded strings, in order). Rejects on a non-200 answer or timeout.
 */
export async function pollUntil(base, sid, count, { timeout = 5000, filter = (p) => p !== '6', autoPong = true } = {}) {
  const deadline = Date.now() + timeout;
  const got = [];
  while (got.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`pollUntil: got ${got.length}/${count} packets: ${JSON.stringify(got)}`);
    const res = await poll(base, sid, { timeout: left });
    if (res.status !== 200) throw new Error(`pollUntil: GET answered ${res.status} ${res.body}`);
    for (const p of res.packets) {
      if (autoPong && p === '2') { await post(base, sid, '3'); continue; }
      if (filter(p)) got.push(p);
    }
  }
  return got;
}

/**
 * A raw WebSocket: a queue of received messages (text frames as strings,
 * binary frames as Buffers), the close code/reason, and helpers.
 */
export class RawWs {
  constructor(ws, { autoPong = false } = {}) {
    this.ws = ws;
    this.autoPong = autoPong;
    this.queue = [];
    this.waiters = [];
    this.closeInfo = null;
    this.received = []; // every message, for no-loss / no-duplicate checks
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        openSockets.delete(this);
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const w of this.waiters.splice(0)) w.reject(new Error(`websocket closed (${code}) while waiting for a message`));
      });
    });
    ws.on('error', (err) => { this.error = err; });
    ws.on('message', (data, isBinary) => {
      const msg = isBinary ? Buffer.from(data) : data.toString();
      if (this.autoPong && msg === '2') { this.send('3'); return; }
      this.received.push(msg);
      const w = this.waiters.shift();
      if (w) w.resolve(msg); else this.queue.push(msg);
    });
    openSockets.add(this);
  }

  /** Next message (string or Buffer); rejects after timeout ms or on close. */
  next(timeout = 2000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    if (this.closeInfo) return Promise.reject(new Error(`websocket closed (${this.closeInfo.code})`));
    let waiter;
    const p = new Promise((resolve, reject) => { waiter = { resolve, reject }; this.waiters.push(waiter); });
    return withTimeout(p, timeout, 'websocket message').catch((err) => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
      throw err;
    });
  }

  /** Resolves with the next message, or null when none arrives within ms (the socket may close meanwhile). */
  async maybeNext(ms) {
    try { return await this.next(ms); } catch { return null; }
  }

  send(data) { this.ws.send(data); }

  /** Resolves with { code, reason } once closed; rejects after timeout ms. */
  waitClose(timeout = 2000) {
    return withTimeout(this.closed, timeout, 'websocket close');
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  /** Closes politely; terminates when the close handshake takes too long. */
  async close() {
    if (this.closeInfo) return;
    try { this.ws.close(); } catch { /* not open yet */ }
    try { await withTimeout(this.closed, 1000, 'ws close'); } catch { this.ws.terminate(); await this.closed; }
  }
}

/**
 * Opens a WebSocket to the Engine.IO endpoint
 * (`?EIO=4&transport=websocket[&sid=]`). Resolves with
 * { ws: RawWs } once open, or { status, headers, body } when the server
 * answers the upgrade with a plain HTTP response, or { error } when the
 * connection failed otherwise. Never leaves a socket open on failure.
 */
export function tryWs(base, { sid, query = {}, headers = {}, timeout = 5000, autoPong = false } = {}) {
  const url = eioUrl(base.replace(/^http/, 'ws'), { transport: 'websocket', sid, ...query });
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeout });
    let done = false;
    const finish = (v) => { if (!done) { done = true; resolve(v); } };
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      const end = () => { req.destroy(); finish({ status: res.statusCode, headers: res.headers, body }); };
      res.on('end', end);
      res.on('error', end);
      res.on('close', end);
    });
    ws.on('error', (error) => { ws.terminate(); finish({ error }); });
    ws.on('open', () => finish({ ws: new RawWs(ws, { autoPong }) }));
  });
}

/** Like tryWs but rejects unless the websocket opens. */
export async function openWs(base, opts = {}) {
  const r = await tryWs(base, opts);
  if (!r.ws) throw new Error(`websocket did not open: ${r.error ? r.error.message : `${r.status} ${r.body}`}`);
  return r.ws;
}

/**
 * Opens a direct websocket session: resolves with { ws, open, sid } after
 * reading the open packet.
 */
export async function wsHandshake(base, opts = {}) {
  const ws = await openWs(base, opts);
  const first = await ws.next(3000);
  if (typeof first !== 'string' || first[0] !== '0') throw new Error(`expected an open packet, got ${first}`);
  const open = JSON.parse(first.slice(1));
  return { ws, open, sid: open.sid };
}

/**
 * Direct websocket session connected to the Socket.IO namespace nsp:
 * resolves with { ws, sid (Engine.IO), id (Socket.IO socket id), connect (the raw CONNECT answer) }.
 */
export async function wsConnect(base, { nsp = '/', auth, autoPong = true } = {}) {
  const { ws, sid } = await wsHandshake(base, { autoPong });
  const prefix = nsp === '/' ? '' : `${nsp},`;
  ws.send(`40${prefix}${auth ? JSON.stringify(auth) : ''}`);
  const connect = await ws.next(3000);
  const m = /^40(?:\/[^,]*,)?(\{.*\})$/.exec(connect);
  if (!m) throw new Error(`expected a CONNECT answer, got ${connect}`);
  return { ws, sid, id: JSON.parse(m[1]).sid, connect };
}

/**
 * Polling session connected to the Socket.IO namespace `/`:
 * resolves with { sid, id, connect }.
 */
export async function pollingConnect(base) {
  const hs = await handshake(base);
  if (hs.status !== 200 || !hs.sid) throw new Error(`handshake failed: ${hs.status} ${hs.body}`);
  const res = await post(base, hs.sid, '40');
  if (res.status !== 200) throw new Error(`CONNECT POST failed: ${res.status} ${res.body}`);
  const [connect] = await pollUntil(base, hs.sid, 1);
  const m = /^40(\{.*\})$/.exec(connect);
  if (!m) throw new Error(`expected a CONNECT answer, got ${connect}`);
  return { sid: hs.sid, id: JSON.parse(m[1]).sid, connect, open: hs.open };
}

/** Aborts every pending request and closes every websocket opened here. */
export async function closeAll() {
  for (const ac of pendingRequests) ac.abort(new Error('closed by closeAll'));
  pendingRequests.clear();
  await Promise.all([...openSockets].map((s) => s.close()));
}

/** Engine.IO error messages by code (engine.io Server.errorMessages). */
export const ERROR_MESSAGES = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
};

/** The exact body of an Engine.IO HTTP error answer, e.g. {"code":1,"message":"Session ID unknown"}. */
export function errorBody(code) {
  return JSON.stringify({ code, message: ERROR_MESSAGES[code] });
}

/** Asserts an Engine.IO HTTP error answer: status, Content-Type and exact JSON body. */
export function assertEioError(res, code, label = '') {
  const what = `${label} -> ${res.status} ${res.contentType} ${res.body}`;
  assert.equal(res.status, code === 4 ? 403 : 400, what);
  assert.equal(res.contentType, 'application/json', what);
  assert.equal(res.body, errorBody(code), what);
}

/**
 * Asserts that the server closes the websocket within timeout ms with the
 * given close code (1005: a close frame without a status code, which is
 * what engine.io's ws.close() sends). Resolves with { code, reason, ms }.
 */
export async function assertWsClosed(ws, { code = 1005, timeout = 2000, label = '' } = {}) {
  const t0 = Date.now();
  const info = await ws.waitClose(timeout);
  assert.equal(info.code, code, `${label}: close code ${info.code} ${info.reason}`);
  return { ...info, ms: Date.now() - t0 };
}

/** Asserts that a Socket.IO connection on `/` still works: an echo round-trips. */
export async function assertEchoWs(ws, value = 'still-open', timeout = 2000) {
  const pkt = `42${JSON.stringify(['echo', value])}`;
  ws.send(pkt);
  assert.equal(await ws.next(timeout), pkt);
}

/** Same over polling. */
export async function assertEchoPolling(base, sid, value = 'still-open') {
  const pkt = `42${JSON.stringify(['echo', value])}`;
  const res = await post(base, sid, pkt);
  assert.equal(res.status, 200, `POST ${res.status} ${res.body}`);
  assert.deepEqual(await pollUntil(base, sid, 1), [pkt]);
}

/**
 * Asserts a GET answer that ends the session: 200 and a payload of a close
 * packet `1`, possibly preceded by noops. engine.io answers a pending GET
 * with `1`; when the server closed the session while no GET was pending, it
 * buffers the close and answers the next GET with `6\x1e1`.
 */
export function assertClosePayload(res, label = '') {
  const what = `${label}: ${res.status} ${JSON.stringify(res.body)}`;
  assert.equal(res.status, 200, what);
  const packets = splitPayload(res.body);
  assert.ok(packets.length >= 1, what);
  assert.equal(packets[packets.length - 1], '1', `${what}: the last packet is a close`);
  for (const p of packets.slice(0, -1)) assert.equal(p, '6', `${what}: only noops before the close`);
}
