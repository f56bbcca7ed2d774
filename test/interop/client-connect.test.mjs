// Connecting with the official socket.io-client over each transport set:
// websocket only, polling only, and polling upgraded to websocket.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, client, connect, connected, ack, emitWithAck, upgraded, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };

for (const target of targets) {
  describe(`[${target}] connect`, () => {
    let server;
    before(async () => { server = await startServer(target); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      it(`${name} connects, socket.id is set and is not the engine id`, T, async () => {
        const sock = await connect(server.url, { transports });
        assert.equal(sock.connected, true);
        assert.equal(typeof sock.id, 'string');
        assert.ok(sock.id.length > 0);
        assert.notEqual(sock.id, sock.io.engine.id);
        assert.equal(await emitWithAck(sock, 'echo', 'hi'), 'hi');
      });

      it(`${name} ends on the expected transport`, T, async () => {
        const sock = client(server.url, { transports });
        const upgrade = transports.length > 1 ? upgraded(sock, 3000) : null;
        await connected(sock);
        if (upgrade) {
          assert.equal(await upgrade, 'websocket');
          assert.equal(sock.io.engine.transport.name, 'websocket');
        } else {
          // no upgrade happens when only one transport is allowed
          await sleep(200);
          assert.equal(sock.io.engine.transport.name, transports[0]);
        }
        assert.equal(await emitWithAck(sock, 'echo', 'after'), 'after');
      });

      it(`${name} server sees handshake query and auth`, T, async () => {
        const auth = { token: 'ok', n: 1, nested: { a: [1, 'b'] } };
        const sock = await connect(server.url, { transports, query: { k: 'v1', other: 'x' }, auth });
        const hs = await emitWithAck(sock, 'handshake');
        assert.deepEqual(hs, { query: { k: 'v1' }, auth, hasAddress: true });
      });

      it(`${name} handshake without query or auth`, T, async () => {
        const sock = await connect(server.url, { transports });
        const hs = await emitWithAck(sock, 'handshake');
        assert.deepEqual(hs, { query: { k: null }, auth: {}, hasAddress: true });
      });

      it(`${name} two clients get distinct ids and both are listed by "sockets"`, T, async () => {
        const a = await connect(server.url, { transports });
        const b = await connect(server.url, { transports });
        assert.notEqual(a.id, b.id);
        const ids = await emitWithAck(a, 'sockets');
        assert.ok(Array.isArray(ids));
        assert.deepEqual([...ids].sort(), ids, 'sorted');
        assert.ok(ids.includes(a.id) && ids.includes(b.id), `${JSON.stringify(ids)} lists both`);
      });
    }

    it(`[${target}] [polling+websocket] upgrade with 200 acked emits in flight: all acks, once, in order`, T, async () => {
      const sock = client(server.url, { transports: ['polling', 'websocket'] });
      const upgrade = upgraded(sock, 5000);
      const got = [];
      const done = new Promise((resolve, reject) => {
        sock.once('connect', () => {
          for (let i = 0; i < 200; i++) {
            sock.timeout(5000).emit('echo', i, (err, v) => {
              if (err) { reject(new Error(`ack ${i} missing: ${err.message}`)); return; }
              got.push(v);
              if (got.length === 200) resolve();
            });
          }
        });
        sock.once('connect_error', reject);
      });
      await done;
      assert.equal(await upgrade, 'websocket');
      assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
      // nothing arrives twice later on
      await sleep(100);
      assert.equal(got.length, 200);
      assert.equal(sock.io.engine.transport.name, 'websocket');
    });

    it(`[${target}] [polling+websocket] acked emits before, during and after a delayed upgrade: all acks, once, in order`, T, async () => {
      const sock = client(server.url, { transports: ['polling', 'websocket'] });
      const engine = sock.io.engine;
      // hold the websocket probe back until the socket is connected over polling
      let probe = null;
      const realProbe = engine._probe;
      engine._probe = (name) => { probe = () => realProbe.call(engine, name); };
      const got = [];
      let next = 0;
      let done = null;
      let fail = null;
      const all = new Promise((resolve, reject) => {
        done = resolve;
        fail = reject;
        sock.once('connect_error', reject);
      });
      const emitUpTo = (n) => {
        for (; next < n; next++) {
          const i = next;
          sock.timeout(5000).emit('echo', i, (err, v) => {
            if (err) { fail(new Error(`ack ${i} missing: ${err.message}`)); return; }
            got.push(v);
            if (got.length === 200) done();
          });
        }
      };
      const phases = [];
      engine.on('upgrading', () => { phases.push(['upgrading', engine.transport.name]); emitUpTo(150); });
      engine.on('upgrade', () => { phases.push(['upgrade', engine.transport.name]); emitUpTo(200); });
      await connected(sock);
      assert.equal(engine.transport.name, 'polling');
      emitUpTo(100);
      assert.ok(probe, 'the engine wanted to probe websocket');
      probe();
      await all;
      assert.deepEqual(phases, [['upgrading', 'polling'], ['upgrade', 'websocket']]);
      assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
      await sleep(100);
      assert.equal(got.length, 200);
    });

    it(`[${target}] [polling+websocket] emits queued before connect are delivered`, T, async () => {
      const sock = client(server.url, { transports: ['polling', 'websocket'] });
      const p = ack(sock, 'echo', ['early', 1]);
      assert.deepEqual(await p, ['early', 1]);
    });
  });
}
