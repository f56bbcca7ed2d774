// Acknowledgements in both directions: server→client acks ("ask", "ask-all")
// with and without answers, and client-side timeouts and emitWithAck.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, ack, emitWithAck, normalize, rand, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };

for (const target of targets) {
  describe(`[${target}] acks`, () => {
    let server;
    before(async () => { server = await startServer(target); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      it(`${name} "ask": the client's answer echoes the payload`, T, async () => {
        const sock = await connect(server.url, { transports });
        const seen = [];
        sock.on('question', (payload, cb) => { seen.push(payload); cb(payload); });
        for (const payload of ['hi', 0, { a: [1, null, 'ü😀'] }, [1, 2, 3], true, null]) {
          const res = await emitWithAck(sock, 'ask', { payload, timeout: 2000 });
          assert.deepEqual(res, { err: null, answer: payload });
        }
        assert.equal(seen.length, 6);
      });

      it(`${name} "ask" with a binary payload: the answer carries the binary back`, T, async () => {
        const sock = await connect(server.url, { transports });
        sock.on('question', (payload, cb) => cb(payload));
        const payload = { bin: Buffer.from([1, 2, 3, 250]), n: 1 };
        const res = await emitWithAck(sock, 'ask', { payload, timeout: 2000 });
        assert.deepEqual(normalize(res), { err: null, answer: normalize(payload) });
      });

      it(`${name} "ask" that the client does not answer → err "timeout" after the timeout`, T, async () => {
        const sock = await connect(server.url, { transports });
        let asked = 0;
        sock.on('question', () => { asked++; /* no answer */ });
        const t0 = Date.now();
        const res = await emitWithAck(sock, 'ask', { payload: 'x', timeout: 300 });
        const took = Date.now() - t0;
        assert.deepEqual(res, { err: 'timeout', answer: null });
        assert.equal(asked, 1);
        assert.ok(took >= 250, `timed out after ${took} ms, expected ≈300`);
        assert.ok(took < 2500, `timed out after ${took} ms, expected ≈300`);
      });

      it(`${name} a late answer after the server's timeout is ignored and the socket stays usable`, T, async () => {
        const sock = await connect(server.url, { transports });
        sock.on('question', (payload, cb) => setTimeout(() => cb('late'), 400));
        const res = await emitWithAck(sock, 'ask', { payload: 'x', timeout: 150 });
        assert.deepEqual(res, { err: 'timeout', answer: null });
        await sleep(400);
        assert.equal(sock.connected, true);
        assert.equal(await emitWithAck(sock, 'echo', 'still'), 'still');
      });

      it(`${name} "ask-all" with 3 clients in a room gathers 3 answers`, T, async () => {
        const room = `qa-${rand()}`;
        const socks = [];
        for (let i = 0; i < 3; i++) {
          const s = await connect(server.url, { transports });
          s.on('question', (p, cb) => cb({ from: `c${i}`, p }));
          await ack(s, 'join', [room]);
          socks.push(s);
        }
        // a client outside the room must not be asked
        const outsider = await connect(server.url, { transports });
        let outsiderAsked = 0;
        outsider.on('question', (p, cb) => { outsiderAsked++; cb('outsider'); });
        const res = await emitWithAck(outsider, 'ask-all', { rooms: [room], timeout: 2000 });
        assert.deepEqual(res, {
          err: null,
          answers: [{ from: 'c0', p: 'all' }, { from: 'c1', p: 'all' }, { from: 'c2', p: 'all' }],
        });
        assert.equal(outsiderAsked, 0);
      });

      it(`${name} "ask-all" answers are sorted as JSON strings`, T, async () => {
        const room = `qa-${rand()}`;
        const answers = ['b', 10, 'a', 2];
        for (const a of answers) {
          const s = await connect(server.url, { transports });
          s.on('question', (p, cb) => cb(a));
          await ack(s, 'join', [room]);
        }
        const asker = await connect(server.url, { transports });
        const res = await emitWithAck(asker, 'ask-all', { rooms: [room], timeout: 2000 });
        // JSON strings: "\"a\"" < "\"b\"" < "10" < "2"
        assert.deepEqual(res, { err: null, answers: ['a', 'b', 10, 2] });
      });

      it(`${name} "ask-all" with one client not answering → err "timeout" with the answers that came`, T, async () => {
        const room = `qa-${rand()}`;
        for (let i = 0; i < 3; i++) {
          const s = await connect(server.url, { transports });
          s.on('question', (p, cb) => { if (i !== 1) cb(`c${i}`); });
          await ack(s, 'join', [room]);
        }
        const asker = await connect(server.url, { transports });
        const t0 = Date.now();
        const res = await emitWithAck(asker, 'ask-all', { rooms: [room], timeout: 300 });
        const took = Date.now() - t0;
        assert.deepEqual(res, { err: 'timeout', answers: ['c0', 'c2'] });
        assert.ok(took >= 250 && took < 2500, `took ${took} ms, expected ≈300`);
      });

      it(`${name} "ask-all" to an empty room → no error, no answers`, T, async () => {
        const asker = await connect(server.url, { transports });
        const res = await emitWithAck(asker, 'ask-all', { rooms: [`empty-${rand()}`], timeout: 1000 });
        assert.deepEqual(res, { err: null, answers: [] });
      });

      it(`${name} client-side timeout on an event the server never acks`, T, async () => {
        const sock = await connect(server.url, { transports });
        const t0 = Date.now();
        const err = await new Promise((resolve) => {
          sock.timeout(200).emit('no-such-event', 1, 'two', (e, ...rest) => resolve({ e, rest }));
        });
        const took = Date.now() - t0;
        assert.ok(err.e instanceof Error, 'callback gets an error');
        assert.equal(err.e.message, 'operation has timed out');
        assert.deepEqual(err.rest, []);
        assert.ok(took >= 180 && took < 2000, `took ${took} ms`);
        // the unknown event did not break the connection
        assert.equal(sock.connected, true);
        assert.equal(await emitWithAck(sock, 'echo', 'ok'), 'ok');
      });

      it(`${name} emitWithAck resolves with the ack, and rejects on timeout`, T, async () => {
        const sock = await connect(server.url, { transports });
        assert.equal(await sock.emitWithAck('echo', 'v'), 'v');
        assert.deepEqual(await sock.timeout(2000).emitWithAck('echo', { a: [1] }), { a: [1] });
        await assert.rejects(sock.timeout(200).emitWithAck('no-such-event'), /operation has timed out/);
      });

      it(`${name} acks are matched to their emits when answered out of order`, T, async () => {
        const sock = await connect(server.url, { transports });
        // the server answers "ask" only after the client answers "question";
        // answer questions in reverse order
        const pending = [];
        sock.on('question', (p, cb) => { pending.push(() => cb(p)); });
        const results = [0, 1, 2, 3, 4].map((i) => emitWithAck(sock, 'ask', { payload: i, timeout: 3000 }));
        for (let t = 0; t < 60 && pending.length < 5; t++) await sleep(25);
        assert.equal(pending.length, 5);
        for (const answer of pending.reverse()) answer();
        assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4].map((i) => ({ err: null, answer: i })));
      });
    }
  });
}
