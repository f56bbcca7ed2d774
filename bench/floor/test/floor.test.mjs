// The floor server against the official socket.io-client 4.8.1: the events
// of bench/contract.md, the heartbeat, the HTTP answers, and hostile input
// that must close a connection, never the server. Run by bench/floor/test.sh
// (FLOOR_BIN is the binary it built).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';

const BIN = process.env.FLOOR_BIN;
let proc, url, port;
const clients = [];

before(async () => {
  assert.ok(BIN, 'FLOOR_BIN must name the floor binary');
  // A short heartbeat, so the ping tests take seconds.
  proc = spawn(BIN, ['--port', '0', '--ping-interval', '1', '--ping-timeout', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await Promise.race([
    once(proc.stdout, 'data'),
    new Promise((_, rej) => setTimeout(() => rej(new Error('floor did not start')), 5000)),
  ]);
  const m = /^listening on (127\.0\.0\.1:(\d+))\n/.exec(line.toString());
  assert.ok(m, `first line: ${line}`);
  url = `http://${m[1]}`;
  port = Number(m[2]);
});

after(async () => {
  for (const c of clients) c.disconnect();
  if (proc && proc.exitCode === null) {
    proc.kill('SIGTERM');
    await once(proc, 'exit');
  }
});

function client(nsp = '') {
  const c = io(url + nsp, { transports: ['websocket'], reconnection: false, forceNew: true });
  clients.push(c);
  return c;
}

async function connected(nsp) {
  const c = client(nsp);
  await Promise.race([
    once(c, 'connect'),
    once(c, 'connect_error').then(([e]) => { throw e; }),
  ]);
  return c;
}

// next resolves with the arguments of the next `event` on c.
const next = (c, event) => new Promise((res) => c.once(event, (...args) => res(args)));

test('connects and gets a socket id', async () => {
  const c = await connected();
  assert.match(c.id, /^[A-Za-z0-9_-]{20}$/);
  assert.notEqual(c.id, c.io.engine.id);
});

test('echo with an ack sends the arguments back as written', async () => {
  const c = await connected();
  const args = ['a', { x: [1, 2.5, null], 'k"ey': 'v\\"\u00e9\u2028' }, 3, true, []];
  const got = await new Promise((res) => c.emit('echo', ...args, (...r) => res(r)));
  assert.deepEqual(got, args);
  assert.deepEqual(await c.emitWithAck('echo'), undefined); // no arguments: an empty ack
});

test('echo without an ack emits echo back', async () => {
  const c = await connected();
  const p = next(c, 'echo');
  c.emit('echo', 'hello', 42);
  assert.deepEqual(await p, ['hello', 42]);
});

test('broadcast reaches every socket, the sender too, then acks', async () => {
  const a = await connected();
  const b = await connected();
  const pa = next(a, 'broadcast');
  const pb = next(b, 'broadcast');
  const ack = await new Promise((res) => a.emit('broadcast', 'hi', { n: 1 }, (...r) => res(r)));
  assert.deepEqual(ack, []);
  assert.deepEqual(await pa, ['hi', { n: 1 }]);
  assert.deepEqual(await pb, ['hi', { n: 1 }]);
});

test('broadcast_room reaches the room only', async () => {
  const inRoom = await connected();
  const outside = await connected();
  const sender = await connected();
  await inRoom.emitWithAck('join', 'r1');
  await inRoom.emitWithAck('join', 'r1'); // twice: still one delivery
  await outside.emitWithAck('join', 'r2');
  const gotIn = [];
  const gotOut = [];
  inRoom.on('broadcast', (...a) => gotIn.push(a));
  outside.on('broadcast', (...a) => gotOut.push(a));
  await sender.emitWithAck('broadcast_room', 'r1', 'x', 2);
  await sender.emitWithAck('broadcast_room', 'nobody', 'y');
  // A broadcast to all comes after, in order, on the same connections: a
  // sentinel that shows what each had by then.
  const sIn = next(inRoom, 'broadcast');
  await sender.emitWithAck('broadcast', 'sentinel');
  await sIn;
  while (gotOut.length === 0) await next(outside, 'broadcast');
  assert.deepEqual(gotIn, [['x', 2], ['sentinel']]);
  assert.deepEqual(gotOut, [['sentinel']]);
  // A socket that leaves ("41") is out of its rooms and of broadcasts.
  inRoom.disconnect();
  await sender.emitWithAck('broadcast_room', 'r1', 'z');
  assert.deepEqual(gotIn, [['x', 2], ['sentinel']]);
});

test('another namespace is refused with Invalid namespace', async () => {
  const c = client('/admin');
  const [err] = await once(c, 'connect_error');
  assert.equal(err.message, 'Invalid namespace');
});

test('heartbeat: a client that answers pings stays; a silent one is closed', async () => {
  const c = await connected();
  let pings = 0;
  c.io.engine.on('ping', () => pings++);
  await new Promise((r) => setTimeout(r, 3500));
  assert.ok(c.connected, 'still connected after several ping intervals');
  assert.ok(pings >= 2, `pings seen: ${pings}`);
  assert.deepEqual(await c.emitWithAck('echo', 'alive'), 'alive');

  // A raw WebSocket client that never answers: closed after interval + timeout.
  const s = await rawUpgrade();
  const closed = once(s, 'close');
  await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('not closed')), 5000))]);
});

test('HTTP: polling refused (WebSocket only), /debug/gc, 404, bad version', async () => {
  let r = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(r.status, 400);
  assert.deepEqual(await r.json(), { code: 0, message: 'Transport unknown' });
  r = await fetch(`${url}/socket.io/?EIO=3&transport=websocket`);
  assert.equal(r.status, 400);
  assert.equal((await r.json()).code, 5);
  r = await fetch(`${url}/debug/gc`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'ok');
  r = await fetch(`${url}/elsewhere`);
  assert.equal(r.status, 404);
  r = await fetch(`${url}/socket.io/?EIO=4&transport=websocket`); // no upgrade headers
  assert.equal(r.status, 400);
});

// rawUpgrade opens a WebSocket by hand and reads past the 101 head.
async function rawUpgrade() {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  s.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf = Buffer.alloc(0);
  while (!buf.includes('\r\n\r\n')) {
    const [d] = await once(s, 'data');
    buf = Buffer.concat([buf, d]);
  }
  assert.match(buf.toString('latin1'), /^HTTP\/1\.1 101 /);
  s.on('data', () => {});
  return s;
}

// masked builds a client frame.
function masked(opcode, payload, { fin = true, mask = true, lenOverride } = {}) {
  const p = Buffer.from(payload);
  const key = randomBytes(4);
  const len = lenOverride ?? p.length;
  let head;
  if (len < 126) head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]);
  else if (len < 65536) head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 255]);
  else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = (mask ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(p);
  if (mask) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, mask ? key : Buffer.alloc(0), body]);
}

async function expectClosed(s, ms = 5000) {
  if (s.destroyed || s.readyState === 'closed') return;
  await Promise.race([once(s, 'close'), new Promise((_, rej) => setTimeout(() => rej(new Error('connection not closed')), ms))]);
}

test('hostile input closes the connection, never the server', async () => {
  // Garbage instead of a request head.
  for (let i = 0; i < 20; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('data', () => {});
    await once(s, 'connect');
    s.end(randomBytes(1 + (i * 397) % 3000));
    await expectClosed(s, 12000);
  }
  // An endless head: 431, closed.
  {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('error', () => {});
    await once(s, 'connect');
    s.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nX: ' + 'a'.repeat(20000));
    await expectClosed(s);
    assert.match(got, /^HTTP\/1\.1 431 /);
  }
  // Bad frames and packets after a valid upgrade, each on a fresh connection.
  const bad = [
    masked(1, '40', { mask: false }),                 // unmasked
    masked(3, 'x'),                                   // reserved opcode
    masked(1, '', { lenOverride: 2_000_000 }),        // past maxPayload
    masked(2, Buffer.from([4, 1, 2])),                // binary
    masked(1, '40', { fin: false }),                  // fragmented
    masked(0, 'x'),                                   // stray continuation
    masked(1, '42["echo",1]'),                        // an event before CONNECT
    Buffer.concat([masked(1, '40'), masked(1, '42["echo",[1}]')]),  // unbalanced
    Buffer.concat([masked(1, '40'), masked(1, '42["echo",1]x')]),   // bytes after the array
    Buffer.concat([masked(1, '40'), masked(1, '42[1,2]')]),         // no event name
    Buffer.concat([masked(1, '40'), masked(1, '42["echo",]')]),     // a dangling comma
    Buffer.concat([masked(1, '40'), masked(1, '421234567890123456["echo"]')]), // ack id too big
    Buffer.concat([masked(1, '40'), masked(1, '42' + '['.repeat(100) + ']'.repeat(100))]), // too deep
    Buffer.concat([masked(1, '40'), masked(1, '42["join",1]')]),    // a room that is not a string
    Buffer.concat([masked(1, '40'), masked(1, '42["echo","\\q"]')]), // bad escape
    Buffer.concat([masked(1, '40'), masked(1, '2probe')]),          // an upgrade probe
    Buffer.concat([masked(1, '40'), masked(1, '451-["x",{"_placeholder":true,"num":0}]')]), // binary event
  ];
  for (const frame of bad) {
    const s = await rawUpgrade();
    s.on('error', () => {});
    s.write(frame);
    await expectClosed(s);
  }
  // After all that, the server still serves.
  const c = await connected();
  assert.equal(await c.emitWithAck('echo', 'still here'), 'still here');
  assert.equal(proc.exitCode, null);
});

test('SIGTERM ends the process with status 0', async () => {
  proc.kill('SIGTERM');
  const [code] = await once(proc, 'exit');
  assert.equal(code, 0);
});
