// Raw Engine.IO 3 helpers (the protocol of socket.io-client 2.x) for
// engine-eio3.test.mjs: payloads are length-prefixed, "<length>:<packet>",
// the length counted in UTF-16 code units as JavaScript counts a string;
// binary is "b4" + base64 in text, or the XHR2 binary payload. Every
// request has a timeout and is aborted by closeAll().
import assert from 'node:assert/strict';
import { eioUrl, withTimeout } from './raw.mjs';

const pending = new Set();

/** URL of the endpoint with EIO=3 (query values replace the defaults; null removes a key). */
export function url3(base, query = {}) {
  return eioUrl(base, { EIO: '3', ...query });
}

/** A Buffer packet as text: "b4" + base64. */
export const b64 = (buf) => 'b4' + Buffer.from(buf).toString('base64');

/**
 * Encodes a text payload: strings are encoded packets, Buffers become
 * "b4" + base64. JavaScript string length is the UTF-16 length.
 */
export function enc3(...packets) {
  return packets.map((p) => (typeof p === 'string' ? p : b64(p))).map((p) => `${p.length}:${p}`).join('');
}

/** Decodes a text payload into its encoded packets (strings); throws on a malformed one. */
export function dec3(payload) {
  const out = [];
  let i = 0;
  while (i < payload.length) {
    const colon = payload.indexOf(':', i);
    assert.ok(colon > i, `no length at ${i} in ${JSON.stringify(payload)}`);
    const n = Number(payload.slice(i, colon));
    assert.ok(Number.isInteger(n), `bad length ${payload.slice(i, colon)}`);
    const msg = payload.slice(colon + 1, colon + 1 + n);
    assert.equal(msg.length, n, `truncated record in ${JSON.stringify(payload)}`);
    out.push(msg);
    i = colon + 1 + n;
  }
  return out;
}

/**
 * Encodes an XHR2 binary payload: a string is a text packet, a Buffer a
 * binary message (type byte 4 then the data).
 */
export function encBin3(...packets) {
  const parts = [];
  for (const p of packets) {
    const body = typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.concat([Buffer.from([4]), p]);
    const digits = String(body.length).split('').map(Number);
    parts.push(Buffer.from([typeof p === 'string' ? 0 : 1, ...digits, 255]), body);
  }
  return Buffer.concat(parts);
}

/** Decodes an XHR2 binary payload into strings (text packets) and Buffers (binary packets, type byte included). */
export function decBin3(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    const text = buf[i] === 0;
    let j = i + 1;
    let len = '';
    while (buf[j] !== 255) { assert.ok(buf[j] <= 9, `bad length digit ${buf[j]}`); len += buf[j]; j++; }
    const body = buf.subarray(j + 1, j + 1 + Number(len));
    out.push(text ? body.toString('utf8') : Buffer.from(body));
    i = j + 1 + Number(len);
  }
  return out;
}

/**
 * One HTTP request. Resolves with { status, contentType, buf (Buffer), body (text) }.
 */
export async function req3(url, { method = 'GET', body, headers = {}, timeout = 5000 } = {}) {
  const ac = new AbortController();
  pending.add(ac);
  const timer = setTimeout(() => ac.abort(new Error(`timeout after ${timeout} ms: ${method} ${url}`)), timeout);
  try {
    const res = await fetch(url, { method, body, headers, signal: ac.signal });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, contentType: res.headers.get('content-type'), buf, body: buf.toString('utf8') };
  } catch (err) {
    if (ac.signal.aborted && ac.signal.reason instanceof Error) throw ac.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    pending.delete(ac);
  }
}

/** Polling handshake; resolves with the response plus { open, sid, packets }. */
export async function handshake3(base, { query = {}, timeout = 5000 } = {}) {
  const res = await req3(url3(base, query), { timeout });
  let open;
  let packets = [];
  if (res.status === 200 && res.contentType.startsWith('text/plain') && !('j' in query)) {
    packets = dec3(res.body);
    if (packets[0]?.[0] === '0') open = JSON.parse(packets[0].slice(1));
  }
  return { ...res, packets, open, sid: open?.sid };
}

/** A GET for sid. */
export function poll3(base, sid, { query = {}, timeout = 5000 } = {}) {
  return req3(url3(base, { sid, ...query }), { timeout });
}

/** A POST for sid; body a string (text payload) or Buffer. */
export function post3(base, sid, body, { query = {}, contentType = 'text/plain;charset=UTF-8', timeout = 5000 } = {}) {
  return req3(url3(base, { sid, ...query }), { method: 'POST', body, timeout, headers: { 'content-type': contentType } });
}

/**
 * A polling session of a v2 client: handshake, then the GET that brings
 * the server's CONNECT of "/" ("2:40"). Resolves with { sid, open }.
 */
export async function connect3(base, { query = { b64: '1' } } = {}) {
  const hs = await handshake3(base, { query });
  assert.equal(hs.status, 200, `handshake: ${hs.status} ${hs.body}`);
  const res = await poll3(base, hs.sid);
  assert.equal(res.body, '2:40', 'the server connects "/" on its own');
  return { sid: hs.sid, open: hs.open };
}

/** Polls until count packets (decoded text payload records) arrived. */
export async function pollUntil3(base, sid, count, { timeout = 5000 } = {}) {
  const deadline = Date.now() + timeout;
  const got = [];
  while (got.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`pollUntil3: got ${got.length}/${count}: ${JSON.stringify(got)}`);
    const res = await poll3(base, sid, { timeout: left });
    assert.equal(res.status, 200, `GET ${res.status} ${res.body}`);
    got.push(...dec3(res.body).filter((p) => p !== '6'));
  }
  return got;
}

/** The JSONP client's escaping of a payload, then the form body it POSTs. */
export function jsonpForm(payload) {
  const escaped = payload.replace(/\\n/g, '\\\n').replace(/\n/g, '\\n');
  return 'd=' + encodeURIComponent(escaped);
}

/** Aborts every pending request made here. */
export function closeAll3() {
  for (const ac of pending) ac.abort(new Error('closed by closeAll3'));
  pending.clear();
}

export { withTimeout };
