// The official socket.io-client with socket.io-msgpack-parser (each packet
// one MessagePack binary message) against a server using the same parser:
// events, acks both ways, binary, namespaces, broadcasts (with and without
// acks) and connect errors. Run against sockio (--parser msgpack) and the
// reference with the same parser.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import msgpackParser from 'socket.io-msgpack-parser';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, connectError, emitWithAck, ack, waitFor, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };

for (const target of targets) {
  describe(`[${target}] msgpack parser`, () => {
    let server;
    before(async () => { server = await startServer(target, { parser: 'msgpack' }); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;
      const opts = (extra = {}) => ({ transports, parser: msgpackParser, ...extra });

      it(`${name} echo with ack keeps every JSON kind`, T, async () => {
        const sock = await connect(server.url, opts());
        const args = ['hé ✓', 0, -1, 1.5, 2 ** 40, true, false, null, [], {}, { a: [1, { b: 'c' }], 'é': 'x' }];
        assert.deepEqual(await ack(sock, 'echo', args), args);
      });

      it(`${name} event without ack: the server emits it back`, T, async () => {
        const sock = await connect(server.url, opts());
        const got = waitFor(sock, 'echo');
        sock.emit('echo', 'plain', 42);
        assert.deepEqual(await got, ['plain', 42]);
      });

      it(`${name} binary: Buffers at top level and nested come back as Buffers`, T, async () => {
        const sock = await connect(server.url, opts());
        const big = Buffer.alloc(70000, 7);
        const nested = { a: Buffer.from([1, 2, 3]), list: [Buffer.alloc(0), 'x', Buffer.from([255])] };
        const [b, n, bb] = await ack(sock, 'echo', [Buffer.from([0, 1, 2]), nested, big]);
        assert.ok(Buffer.isBuffer(b) && b.equals(Buffer.from([0, 1, 2])), `got ${b}`);
        assert.ok(Buffer.isBuffer(n.a) && n.a.equals(nested.a));
        assert.equal(n.list[1], 'x');
        assert.ok(n.list[0].length === 0 && n.list[2].equals(Buffer.from([255])));
        assert.ok(Buffer.isBuffer(bb) && bb.equals(big));
      });

      it(`${name} the server asks with an ack and gets the client's answer`, T, async () => {
        const sock = await connect(server.url, opts());
        sock.on('question', (payload, cb) => cb({ echoed: payload, bin: Buffer.from([9]) }));
        const res = await emitWithAck(sock, 'ask', { payload: [1, 'two'], timeout: 2000 });
        assert.equal(res.err, null);
        assert.deepEqual(res.answer.echoed, [1, 'two']);
        assert.ok(Buffer.from(res.answer.bin).equals(Buffer.from([9])));
      });

      it(`${name} namespaces: /admin and a dynamic one`, T, async () => {
        const admin = await connect(server.url, opts({ auth: { role: 'admin' } }), '/admin');
        assert.equal(await emitWithAck(admin, 'whoami'), '/admin');
        const dyn = await connect(server.url, opts(), '/dyn-7');
        assert.equal(await emitWithAck(dyn, 'whoami'), '/dyn-7');
        assert.deepEqual(await ack(dyn, 'echo', [Buffer.from([4])]), [Buffer.from([4])]);
      });

      it(`${name} broadcast to a room reaches its members, binary included`, T, async () => {
        const room = `r-${Math.random().toString(36).slice(2)}`;
        const a = await connect(server.url, opts());
        const b = await connect(server.url, opts());
        const c = await connect(server.url, opts());
        await emitWithAck(a, 'join', room);
        await emitWithAck(b, 'join', room);
        const gotA = waitFor(a, 'news');
        const gotB = waitFor(b, 'news');
        let cGot = false;
        c.on('news', () => { cGot = true; });
        await emitWithAck(c, 'to', { rooms: [room], event: 'news', args: ['hi', Buffer.from([1, 2])] });
        for (const [text, bin] of [await gotA, await gotB]) {
          assert.equal(text, 'hi');
          assert.ok(Buffer.isBuffer(bin) && bin.equals(Buffer.from([1, 2])));
        }
        await emitWithAck(c, 'rooms'); // a round trip: c's news would have come first
        assert.equal(cGot, false);
      });

      it(`${name} broadcast with acks collects every answer`, T, async () => {
        const room = `q-${Math.random().toString(36).slice(2)}`;
        const a = await connect(server.url, opts());
        const b = await connect(server.url, opts());
        await emitWithAck(a, 'join', room);
        await emitWithAck(b, 'join', room);
        a.on('question', (_p, cb) => cb('a'));
        b.on('question', (_p, cb) => cb('b'));
        const res = await emitWithAck(a, 'ask-all', { rooms: [room], timeout: 2000 });
        assert.deepEqual(res, { err: null, answers: ['a', 'b'] });
      });

      it(`${name} connect errors: middleware with data, without data, unknown namespace`, T, async () => {
        let err = await connectError(server.url, opts({ auth: { token: 'bad' } }));
        assert.equal(err.message, 'unauthorized');
        assert.deepEqual(err.data, { reason: 'bad token' });
        err = await connectError(server.url, opts({ auth: { role: 'user' } }), '/admin');
        assert.equal(err.message, 'forbidden');
        assert.equal(err.data, undefined);
        err = await connectError(server.url, opts(), '/nowhere');
        assert.equal(err.message, 'Invalid namespace');
      });
    }
  });
}

// Connection-state recovery with the msgpack parser: the missed events,
// binary included, are replayed in the server's format.
for (const target of targets) {
  describe(`[${target}] msgpack parser with recovery`, () => {
    let server;
    before(async () => { server = await startServer(target, { parser: 'msgpack', recovery: 30000 }); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;
      it(`${name} a broken connection is recovered with the missed events`, { timeout: 15000 }, async () => {
        const opts = { transports, parser: msgpackParser, reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300 };
        const a = await connect(server.url, opts);
        const b = await connect(server.url, { transports, parser: msgpackParser });
        const room = `r-${Math.random().toString(36).slice(2)}`;
        await ack(a, 'join', [room]);
        const news = [];
        a.on('news', (n, bin) => news.push([n, Buffer.from(bin).toString('hex')]));
        // A first event gives the client an offset to recover from.
        await ack(b, 'to', [{ rooms: [room], event: 'news', args: [1, Buffer.from([1])] }]);
        for (let t = 0; t < 100 && news.length < 1; t++) await sleep(20);
        const id = a.id;
        const reconnected = waitFor(a, 'connect', 8000);
        a.io.engine.close(); // the network fails; the client will reconnect
        await sleep(50);
        await ack(b, 'to', [{ rooms: [room], event: 'news', args: [2, Buffer.from([0xab])] }]);
        await reconnected;
        assert.equal(a.recovered, true, 'recovered');
        assert.equal(a.id, id, 'same socket id');
        for (let t = 0; t < 100 && news.length < 2; t++) await sleep(20);
        assert.deepEqual(news, [[1, '01'], [2, 'ab']]);
      });
    }
  });
}
