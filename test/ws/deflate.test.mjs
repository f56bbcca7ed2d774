// permessage-deflate of internal/wsconn against real peers, both ways, with
// and without context takeover: Node's ws client and Chromium against our
// server (deflatepeer serve), our client against Node's ws server
// (deflatepeer dial). Byte counts on the wire prove that each direction
// was compressed, not just negotiated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { chromium } from 'playwright-core';
import { root } from './lib/echo.mjs';

const run = promisify(execFile);
let peer, plainURL, countURL, browser, page, site;

async function startPeer() {
  const bin = process.env.DEFLATEPEER_BIN;
  const child = bin
    ? spawn(bin, ['serve'], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn('go', ['run', './test/ws/deflatepeer', 'serve'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('deflatepeer did not start')), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      if (/counting on/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`deflatepeer exited with ${code}`)));
  });
  child.removeAllListeners('exit');
  plainURL = out.match(/listening on (ws:\/\/\S+)/)[1];
  countURL = out.match(/counting on (ws:\/\/\S+)/)[1];
  return child;
}

before(async () => {
  peer = await startPeer();
  site = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>deflate</title>'));
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${site.address().port}/`);
});

after(async () => {
  await browser?.close();
  site?.close();
  if (peer && peer.exitCode === null) {
    const exited = once(peer, 'exit');
    peer.kill('SIGTERM');
    await exited;
  }
});

// Messages that compress well and look alike, so that context takeover
// makes a difference; one large one across many frames; an empty one.
function messages() {
  const out = [];
  for (let i = 0; i < 30; i++) {
    out.push(JSON.stringify({ i, items: Array.from({ length: 50 * ((i % 4) + 1) }, () => ({ name: 'item', ok: true })) }));
  }
  out.push('', 'x', 'é'.repeat(1 << 20));
  return out;
}

function next(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
    ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
}

// The Node ws client (perMessageDeflate options as given) against our
// server; returns the extension it agreed and the bytes each way.
async function nodeClient(url, deflateOpts) {
  const ws = new WebSocket(url, { perMessageDeflate: deflateOpts });
  // ws.extensions names the extensions only: the parameters are in the
  // response header.
  let ext = '';
  ws.once('upgrade', (res) => { ext = res.headers['sec-websocket-extensions'] ?? ''; });
  await once(ws, 'open');
  const msgs = messages();
  let total = 0;
  for (const [i, m] of msgs.entries()) {
    const got = next(ws);
    if (i % 2) ws.send(Buffer.from(m));
    else ws.send(m);
    const { data, isBinary } = await got;
    assert.equal(isBinary, i % 2 === 1, `message ${i} type`);
    assert.equal(data.toString(), m, `message ${i} echo`);
    total += Buffer.byteLength(m);
  }
  const sent = ws._socket.bytesWritten;
  const read = ws._socket.bytesRead;
  ws.close(1000);
  const [code] = await once(ws, 'close');
  assert.equal(code, 1000);
  return { ext, sent, read, total };
}

for (const stream of ['0', '1']) {
  const how = stream === '1' ? 'streamed (NextReader/NextWriter)' : 'whole (Read/Write)';
  test(`Node ws client, context takeover both ways, echo ${how}`, async () => {
    const r = await nodeClient(`${plainURL}/?takeover=1&stream=${stream}`, { threshold: 0 });
    assert.match(r.ext, /^permessage-deflate/);
    assert.doesNotMatch(r.ext, /no_context_takeover/);
    // Both directions compressed: under a tenth of the payload each way.
    assert.ok(r.sent < r.total / 10, `client sent ${r.sent} bytes for ${r.total}`);
    assert.ok(r.read < r.total / 10, `client read ${r.read} bytes for ${r.total}`);
  });

  test(`Node ws client, server asks for no context takeover, echo ${how}`, async () => {
    const r = await nodeClient(`${plainURL}/?stream=${stream}`, { threshold: 0 });
    assert.match(r.ext, /server_no_context_takeover/);
    assert.match(r.ext, /client_no_context_takeover/);
    assert.ok(r.sent < r.total / 10 && r.read < r.total / 10, `sent ${r.sent}, read ${r.read} for ${r.total}`);
  });

  test(`Node ws client offers no context takeover and window bits, echo ${how}`, async () => {
    const r = await nodeClient(`${plainURL}/?takeover=1&stream=${stream}`, {
      threshold: 0,
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      clientMaxWindowBits: 10,
    });
    assert.match(r.ext, /server_no_context_takeover/);
    assert.match(r.ext, /client_no_context_takeover/);
    assert.ok(r.sent < r.total / 10 && r.read < r.total / 10, `sent ${r.sent}, read ${r.read} for ${r.total}`);
  });
}

test('an offer of a server window under 15 bits is declined, not failed', async () => {
  const ws = new WebSocket(`${plainURL}/`, { perMessageDeflate: { serverMaxWindowBits: 10 } });
  await once(ws, 'open');
  assert.equal(ws.extensions, '');
  const got = next(ws);
  ws.send('plain');
  assert.equal((await got).data.toString(), 'plain');
  ws.close();
  await once(ws, 'close');
});

test('a compressed message over the limit once inflated is refused with 1009', async () => {
  // 40 MiB of zeros deflate to some 40 KiB; the read limit is 32 MiB.
  const ws = new WebSocket(`${plainURL}/`, { perMessageDeflate: { threshold: 0 }, maxPayload: 0 });
  await once(ws, 'open');
  ws.send(Buffer.alloc(40 << 20));
  const [code] = await once(ws, 'close');
  assert.equal(code, 1009);
});

// Our client against Node's ws server, which echoes; the server counts
// the bytes on the wire.
async function nodeServer(perMessageDeflate) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate, maxPayload: 64 << 20 });
  await once(wss, 'listening');
  const sockets = [];
  wss.on('connection', (ws, req) => {
    sockets.push(req.socket);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return { wss, sockets, url: `ws://127.0.0.1:${wss.address().port}/` };
}

for (const [name, opts, takeover, expect] of [
  ['context takeover both ways', { threshold: 0 }, true, /^permessage-deflate$/],
  ['no context takeover (our offer)', { threshold: 0 }, false, /server_no_context_takeover; client_no_context_takeover/],
  ['server insists on no context takeover', { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true }, true, /server_no_context_takeover/],
  ['server limits its window to 9 bits', { threshold: 0, serverMaxWindowBits: 9 }, true, /server_max_window_bits=9/],
]) {
  test(`our client against Node's ws server: ${name}`, async () => {
    const s = await nodeServer(opts);
    try {
      const bin = process.env.DEFLATEPEER_BIN;
      const args = ['dial', s.url, ...(takeover ? ['takeover'] : [])];
      const { stdout } = bin
        ? await run(bin, args, { timeout: 60000 })
        : await run('go', ['run', './test/ws/deflatepeer', ...args], { cwd: root, timeout: 120000 });
      assert.match(stdout, /^ok /);
      assert.match(stdout.trim().slice(3), expect);
      // 2 x (20 JSON messages + 6 MiB), each way: compressed to a fraction.
      const sock = s.sockets[0];
      assert.ok(sock.bytesRead < 1 << 20, `server read ${sock.bytesRead} bytes`);
      assert.ok(sock.bytesWritten < 1 << 20, `server wrote ${sock.bytesWritten} bytes`);
    } finally {
      s.wss.close();
    }
  });
}

// Chromium offers "permessage-deflate; client_max_window_bits" and keeps
// its context unless told otherwise.
for (const [takeover, stream] of [['1', '0'], ['0', '0'], ['1', '1'], ['0', '1']]) {
  test(`Chromium, takeover=${takeover} stream=${stream}: echo, compressed both ways`, async () => {
    const url = `${countURL}/?takeover=${takeover}&stream=${stream}`;
    const r = await page.evaluate(async ({ url, msgs }) => {
      const ws = new WebSocket(url);
      ws.binaryType = 'arraybuffer';
      await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
      const next = () => new Promise((res, rej) => { ws.onmessage = (e) => res(e.data); ws.onclose = (e) => rej(new Error(`closed ${e.code}`)); });
      let bad = -1;
      let total = 0;
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      for (const [i, m] of msgs.entries()) {
        const got = next();
        ws.send(i % 2 ? enc.encode(m) : m);
        const d = await got;
        const s = typeof d === 'string' ? d : dec.decode(d);
        if (s !== m || (typeof d === 'string') !== (i % 2 === 0)) { bad = i; break; }
        total += enc.encode(m).length;
      }
      const ext = ws.extensions;
      ws.close();
      return { bad, total, ext };
    }, { url, msgs: messages() }).catch((e) => ({ error: String(e) }));
    assert.equal(r.error, undefined);
    assert.equal(r.bad, -1, `message ${r.bad} did not echo`);
    assert.match(r.ext, /permessage-deflate/);
    if (takeover === '0') assert.match(r.ext, /client_no_context_takeover/);
    else assert.doesNotMatch(r.ext, /no_context_takeover/);
  });
}

test('Chromium: the counting server saw compressed bytes both ways', async () => {
  const stats = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
    const next = () => new Promise((res) => { ws.onmessage = (e) => res(e.data); });
    const big = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ i: i % 10, name: 'item' })));
    let got = next();
    ws.send(big);
    if ((await got) !== big) return { error: 'echo differs' };
    got = next();
    ws.send('stats');
    const s = JSON.parse(await got);
    ws.close();
    return { ...s, size: big.length };
  }, `${countURL}/?takeover=1`);
  assert.equal(stats.error, undefined);
  assert.equal(stats.compressed, true);
  assert.ok(stats.in < stats.size / 10, `server read ${stats.in} bytes for ${stats.size}`);
  assert.ok(stats.out < stats.size / 10, `server wrote ${stats.out} bytes for ${stats.size}`);
});
