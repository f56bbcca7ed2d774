// web/reconnecting-websocket.js in Node, with the ws package as its
// WebSocket class, against `sockio echo` and small ws servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';
import { ReconnectingWebSocket } from '../../web/reconnecting-websocket.js';
import { startEcho } from './lib/echo.mjs';

function waitFor(target, type, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type} event in ${ms} ms`)), ms);
    target.addEventListener(type, (e) => { clearTimeout(t); resolve(e); }, { once: true });
  });
}

test('reconnects after the server comes back, with growing waits', async () => {
  let echo = await startEcho();
  const addr = echo.addr;
  const rws = new ReconnectingWebSocket(echo.url, [], { WebSocket, minDelay: 50, maxDelay: 400, jitter: 0 });
  const waits = [];
  rws.addEventListener('reconnecting', (e) => waits.push(e.detail.delay));
  try {
    await waitFor(rws, 'open');
    let msg = waitFor(rws, 'message');
    assert.equal(rws.send('one'), true);
    assert.equal((await msg).data.toString(), 'one');

    const lost = waitFor(rws, 'close');
    await echo.stop();
    const ev = await lost;
    assert.equal(ev.code, 1001);
    assert.equal(ev.detail.willReconnect, true);
    assert.equal(rws.send('nobody'), false);
    await new Promise((r) => setTimeout(r, 700)); // several failed attempts
    echo = await startEcho([], addr);
    await waitFor(rws, 'open');
    assert.ok(waits.length >= 3, `waits ${waits}`);
    assert.deepEqual(waits.slice(0, 4), [50, 100, 200, 400].slice(0, Math.min(4, waits.length)));
    msg = waitFor(rws, 'message');
    rws.send('two');
    assert.equal((await msg).data.toString(), 'two');
  } finally {
    rws.close();
    await echo.stop();
  }
  assert.equal(rws.timersPending(), false);
});

test('heartbeat drops a server that went silent and reconnects', async () => {
  // A server that answers the first connection's messages, then stops
  // answering anything while keeping the TCP connection open.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  let conns = 0;
  wss.on('connection', (ws) => {
    const n = ++conns;
    ws.on('message', (d, isBinary) => { if (n > 1 || conns === 1) ws.send(d, { binary: isBinary }); });
  });
  const url = `ws://127.0.0.1:${wss.address().port}`;
  const rws = new ReconnectingWebSocket(url, [], {
    WebSocket, pingMessage: 'ping', pongMessage: 'ping', heartbeatInterval: 100, heartbeatTimeout: 150, minDelay: 20,
  });
  let messages = 0;
  rws.addEventListener('message', () => messages++);
  try {
    await waitFor(rws, 'open');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rws.readyState, WebSocket.OPEN);
    assert.equal(messages, 0, 'heartbeat replies reach message listeners');
    // Silence: the first connection stops echoing.
    conns = 2; // later connections echo again
    for (const c of wss.clients) c.removeAllListeners('message');
    const dropped = await waitFor(rws, 'close', 3000);
    assert.equal(dropped.reason, 'heartbeat timeout');
    await waitFor(rws, 'open');
  } finally {
    rws.close();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
  assert.equal(rws.timersPending(), false);
});

test('gives up after maxAttempts failures in a row', async () => {
  const e = await startEcho();
  await e.stop(); // nothing listens on e.url now
  const rws = new ReconnectingWebSocket(e.url, [], { WebSocket, minDelay: 10, maxAttempts: 3 });
  const ev = await waitFor(rws, 'giveup');
  assert.equal(ev.detail.attempts, 3);
  assert.equal(rws.readyState, WebSocket.CLOSED);
  assert.equal(rws.timersPending(), false);
});

test('reconnect() during an attempt is a no-op (one attempt at a time)', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  let handshakes = 0;
  wss.on('connection', () => handshakes++);
  const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${wss.address().port}`, [], { WebSocket, minDelay: 20 });
  try {
    await waitFor(rws, 'open');
    for (let i = 0; i < 20; i++) rws.reconnect();
    await waitFor(rws, 'open');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(handshakes, 2);
  } finally {
    rws.close();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});
