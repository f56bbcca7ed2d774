// Node's ws client against `sockio echo`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import WebSocket from 'ws';
import { startEcho } from './lib/echo.mjs';

let plain, deflate, pinging;

before(async () => {
  [plain, deflate, pinging] = await Promise.all([
    startEcho(),
    startEcho(['--deflate']),
    startEcho(['--ping', '150ms']),
  ]);
});

after(async () => {
  await Promise.all([plain, deflate, pinging].filter(Boolean).map((e) => e.stop()));
});

async function open(url, opts = {}) {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  await once(ws, 'open');
  return ws;
}

function next(ws) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
    ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
}

async function closed(ws) {
  const [code, reason] = await once(ws, 'close');
  return { code, reason: reason.toString() };
}

test('text and binary echo at every length boundary', async () => {
  const ws = await open(plain.url);
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 1 << 20, 16 << 20]) {
    const text = 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2);
    let got = next(ws);
    ws.send(text);
    let m = await got;
    assert.equal(m.isBinary, false);
    assert.equal(m.data.toString(), text, `text of ${n} bytes`);

    const bin = Buffer.alloc(n, n % 251);
    got = next(ws);
    ws.send(bin);
    m = await got;
    assert.equal(m.isBinary, true);
    assert.ok(bin.equals(m.data), `binary of ${n} bytes`);
  }
  ws.close(1000);
  assert.equal((await closed(ws)).code, 1000);
});

test('fragmented messages are echoed whole', async () => {
  const ws = await open(plain.url);
  const got = next(ws);
  ws.send('frag', { fin: false });
  ws.send('men', { fin: false });
  ws.send('ted κόσμε', { fin: true });
  assert.equal((await got).data.toString(), 'fragmented κόσμε');
  ws.close();
});

test('ping gets a pong with the same payload', async () => {
  const ws = await open(plain.url);
  const pong = once(ws, 'pong');
  ws.ping(Buffer.from('are you there'));
  const [data] = await pong;
  assert.equal(data.toString(), 'are you there');
  ws.close();
});

test('close code and reason round trip', async () => {
  const ws = await open(plain.url);
  ws.close(4321, 'see you');
  assert.equal((await closed(ws)).code, 4321);
});

test('invalid UTF-8 in a text message closes with 1007', async () => {
  const ws = await open(plain.url);
  ws.send(Buffer.from([0x61, 0xed, 0xa0, 0x80]), { binary: false });
  assert.equal((await closed(ws)).code, 1007);
});

test('a message over the limit closes with 1009', async () => {
  const small = await startEcho(['--max-message', '1000']);
  try {
    const ws = await open(small.url);
    ws.send('x'.repeat(1001));
    assert.equal((await closed(ws)).code, 1009);
  } finally {
    await small.stop();
  }
});

test('permessage-deflate is negotiated and round trips', async () => {
  const ws = await open(deflate.url, { perMessageDeflate: true });
  assert.match(ws.extensions, /permessage-deflate/);
  const big = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ i, name: 'item' })));
  let got = next(ws);
  ws.send(big);
  assert.equal((await got).data.toString(), big);
  const bin = Buffer.alloc(1 << 20, 3);
  got = next(ws);
  ws.send(bin);
  assert.ok(bin.equals((await got).data));
  ws.close();
});

test('without --deflate the extension is declined', async () => {
  const ws = await open(plain.url, { perMessageDeflate: true });
  assert.equal(ws.extensions, '');
  ws.close();
});

test('the server heartbeat pings and the connection stays up', async () => {
  const ws = await open(pinging.url);
  let pings = 0;
  ws.on('ping', () => pings++);
  await new Promise((r) => setTimeout(r, 700));
  assert.ok(pings >= 3, `${pings} pings in 700 ms at a 150 ms interval`);
  assert.equal(ws.readyState, WebSocket.OPEN);
  ws.close();
});

test('50 clients echo concurrently', async () => {
  const clients = await Promise.all(Array.from({ length: 50 }, () => open(plain.url)));
  await Promise.all(
    clients.map(async (ws, c) => {
      for (let i = 0; i < 50; i++) {
        const got = next(ws);
        ws.send(`client ${c} message ${i}`);
        assert.equal((await got).data.toString(), `client ${c} message ${i}`);
      }
      ws.close();
    }),
  );
});

test('shutdown sends 1001 to every peer', async () => {
  const e = await startEcho();
  const ws = await open(e.url);
  const c = closed(ws);
  await e.stop();
  assert.equal((await c).code, 1001);
});
