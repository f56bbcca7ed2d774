// The official socket.io-client 2.x (npm alias socket.io-client-v2:
// Engine.IO 3, Socket.IO protocol 4) against servers started with
// --allow-eio3 1: the reference with allowEIO3 and sockio with AllowEIO3.
// Over websocket, polling and the upgrade: connect, socket ids, events,
// acks both ways, binary, namespaces with a query, connect errors, the
// heartbeat the client drives, disconnects, and rooms shared with 4.x
// clients.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import ioV2 from 'socket.io-client-v2';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, connect as connectV4, emitWithAck as emitWithAckV4, observer, waitFor,
  withTimeout, normalize, rand, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 15000 };

const v2sockets = new Set();

// clientV2 creates a 2.x client socket (forceNew, no reconnection); nsp may
// carry the namespace ("/admin").
function clientV2(url, opts = {}, nsp = '/') {
  const sock = ioV2(url + (nsp === '/' ? '' : nsp), { forceNew: true, reconnection: false, timeout: 5000, ...opts });
  v2sockets.add(sock);
  return sock;
}

function closeV2() {
  for (const s of v2sockets) {
    try { s.close(); s.io.close(); } catch { /* closed */ }
  }
  v2sockets.clear();
}

// connectedV2 resolves once sock connected; it rejects on its error events.
function connectedV2(sock, ms = 5000) {
  if (sock.connected) return Promise.resolve(sock);
  const p = new Promise((resolve, reject) => {
    sock.once('connect', () => resolve(sock));
    sock.once('connect_error', (err) => reject(new Error(`connect_error: ${err && err.message}`)));
    sock.once('error', (err) => reject(new Error(`error: ${JSON.stringify(err)}`)));
  });
  return withTimeout(p, ms, `v2 connect of ${sock.nsp}`);
}

async function connectV2(url, opts = {}, nsp = '/') {
  return connectedV2(clientV2(url, opts, nsp));
}

// ackV2 emits with an ack and resolves with the ack's arguments.
function ackV2(sock, event, ...args) {
  return withTimeout(new Promise((resolve) => sock.emit(event, ...args, (...res) => resolve(res))), 5000, `v2 ack of ${event}`);
}

// errorOf resolves with the data of the socket's next "error" event (how a
// 2.x client learns of a refused namespace); it rejects if it connects.
function errorOf(sock, ms = 3000) {
  const p = new Promise((resolve, reject) => {
    sock.once('error', (data) => resolve(data));
    sock.once('connect', () => reject(new Error(`${sock.nsp} connected, expected an error`)));
  });
  return withTimeout(p, ms, `error of ${sock.nsp}`);
}

for (const target of targets) {
  describe(`[${target}] socket.io-client 2.x (allowEIO3)`, () => {
    let server;
    before(async () => { server = await startServer(target, { allowEio3: 1 }); });
    after(async () => { closeV2(); closeAll(); await server?.stop(); });
    afterEach(() => { closeV2(); closeAll(); });

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      it(`${name} connects to "/" (no auth; the id is the Engine.IO id); the server sees the query`, T, async () => {
        const sock = await connectV2(server.url, { transports, query: { k: 'v1', other: 'x' } });
        assert.equal(sock.id, sock.io.engine.id);
        const [hs] = await ackV2(sock, 'handshake');
        assert.deepEqual(hs, { query: { k: 'v1' }, auth: {}, hasAddress: true });
        const [rooms] = await ackV2(sock, 'rooms');
        assert.deepEqual(rooms, [sock.id]);
        if (transports.length === 2) {
          await withTimeout(new Promise((resolve) => {
            if (sock.io.engine.transport.name === 'websocket') resolve();
            else sock.io.engine.once('upgrade', resolve);
          }), 5000, 'upgrade');
          assert.equal(sock.io.engine.transport.name, 'websocket');
          assert.deepEqual(await ackV2(sock, 'echo', 'after upgrade'), ['after upgrade']);
        }
      });

      it(`${name} events and acks: values round-trip; no ack → an "echo" event`, T, async () => {
        const sock = await connectV2(server.url, { transports });
        const values = ['ü€😀', 0, -1.5, true, null, { a: [1, { b: 'c' }], s: '\u2028' }, [1, [2, [3]]]];
        assert.deepEqual(await ackV2(sock, 'echo', ...values), values);
        const got = waitFor(sock, 'echo', 3000);
        sock.emit('echo', 'plain', 2);
        assert.deepEqual(await got, ['plain', 2]);
      });

      it(`${name} binary: Buffers in events and acks, nested, both ways`, T, async () => {
        const sock = await connectV2(server.url, { transports });
        const bin = Buffer.from([0, 1, 2, 253, 254, 255]);
        const nested = { a: Buffer.from('hé'), list: [Buffer.alloc(0), 'x', Buffer.from([7])] };
        assert.deepEqual(normalize(await ackV2(sock, 'echo', bin, nested, 'tail')), [bin, nested, 'tail']);
        const got = waitFor(sock, 'echo', 3000);
        sock.emit('echo', { bin }, bin);
        assert.deepEqual(normalize(await got), [{ bin }, bin]);
      });

      it(`${name} the server's question with an ack; the answer comes back`, T, async () => {
        const sock = await connectV2(server.url, { transports });
        sock.on('question', (payload, ack) => ack({ got: payload, bin: Buffer.from([1]) }));
        const [res] = await ackV2(sock, 'ask', { payload: { q: 'é' }, timeout: 3000 });
        assert.deepEqual(normalize(res), { err: null, answer: { got: { q: 'é' }, bin: Buffer.from([1]) } });
      });

      it(`${name} namespaces: the namespace query is the auth; ids "<nsp>#<engine id>"`, T, async () => {
        const admin = await connectV2(server.url, { transports, query: { role: 'admin' } }, '/admin');
        assert.equal(admin.id, `/admin#${admin.io.engine.id}`);
        assert.deepEqual(await ackV2(admin, 'whoami'), ['/admin']);
        assert.deepEqual(normalize(await ackV2(admin, 'echo', Buffer.from([5]))), [Buffer.from([5])]);
        const dyn = await connectV2(server.url, { transports, query: 'a=1&a=2' }, '/dyn-33');
        assert.deepEqual(await ackV2(dyn, 'whoami'), ['/dyn-33']);
      });

      it(`${name} connect errors: middleware data or message; "Invalid namespace"`, T, async () => {
        assert.equal(await errorOf(clientV2(server.url, { transports, query: { role: 'user' } }, '/admin')), 'forbidden');
        assert.deepEqual(await errorOf(clientV2(server.url, { transports }, '/nope')), { message: 'Invalid namespace' });
        assert.deepEqual(await errorOf(clientV2(server.url, { transports, query: { token: 'bad' } })), { reason: 'bad token' });
      });

      it(`${name} disconnects: client side and server side`, T, async () => {
        const obs = await observer(server.url);
        const sock = await connectV2(server.url, { transports });
        const id = sock.id;
        sock.close();
        assert.deepEqual(await obs.gone(id), { id, nsp: '/', reason: 'client namespace disconnect' });
        const sock2 = await connectV2(server.url, { transports });
        const id2 = sock2.id;
        const gone = waitFor(sock2, 'disconnect', 3000);
        sock2.emit('disconnect-me', false);
        assert.deepEqual(await gone, ['io server disconnect']);
        assert.deepEqual(await obs.gone(id2), { id: id2, nsp: '/', reason: 'server namespace disconnect' });
      });

      it(`${name} rooms shared with a 4.x client: both get each other's broadcasts, binary included`, T, async () => {
        const room = `r-${rand()}`;
        const v2 = await connectV2(server.url, { transports });
        const v4 = await connectV4(server.url, { transports });
        await ackV2(v2, 'join', room);
        await emitWithAckV4(v4, 'join', room);
        const both = (event) => Promise.all([waitFor(v2, event, 3000), waitFor(v4, event, 3000)]);

        let got = both('from4');
        await emitWithAckV4(v4, 'to', { rooms: [room], event: 'from4', args: ['hi', { n: 1 }] });
        assert.deepEqual(await got, [['hi', { n: 1 }], ['hi', { n: 1 }]]);

        got = both('from2');
        await ackV2(v2, 'to', { rooms: [room], event: 'from2', args: [Buffer.from([1, 2]), 'é'] });
        assert.deepEqual(normalize(await got), [[Buffer.from([1, 2]), 'é'], [Buffer.from([1, 2]), 'é']]);

        const [ids] = await ackV2(v2, 'sockets');
        assert.ok(ids.includes(v2.id) && ids.includes(v4.id), JSON.stringify(ids));
      });
    }
  });

  describe(`[${target}] socket.io-client 2.x heartbeat, pingInterval 200 pingTimeout 300`, () => {
    let server;
    before(async () => { server = await startServer(target, { allowEio3: 1, pingInterval: 200, pingTimeout: 300 }); });
    after(async () => { closeV2(); await server?.stop(); });
    afterEach(() => closeV2());

    for (const transports of transportSets) {
      it(`[${target}] [${tname(transports)}] the client pings; its session outlives several intervals`, T, async () => {
        const sock = await connectV2(server.url, { transports });
        let pongs = 0;
        sock.on('pong', () => { pongs++; });
        let disconnected = null;
        sock.on('disconnect', (reason) => { disconnected = reason; });
        await sleep(2000); // ten intervals, four times pingInterval + pingTimeout
        assert.equal(disconnected, null);
        assert.ok(pongs >= 4, `${pongs} pongs in 2 s`);
        assert.deepEqual(await ackV2(sock, 'echo', 'alive'), ['alive']);
      });
    }
  });
}
