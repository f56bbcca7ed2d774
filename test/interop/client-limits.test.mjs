// Limits: maxHttpBufferSize (a message over the limit drops the client, the
// server carries on) and connectTimeout (a connection that joins no namespace
// is closed).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, ack, emitWithAck, observer, waitFor, upgraded,
  client, Manager, track, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };
const LIMIT = 10000;
const CONNECT_TIMEOUT = 1000;

// What the reference reports when a client sends a message over the limit,
// per transport: the client's "disconnect" reason and the server's reason.
//  - websocket: the server closes the websocket (1009): client "transport close",
//    server "transport error".
//  - polling: the POST is answered 413: the client's engine fails with
//    "transport error" and sends a close packet, so the server sees "transport close".
const overLimit = {
  websocket: { client: 'transport close', server: 'transport error' },
  polling: { client: 'transport error', server: 'transport close' },
};

for (const target of targets) {
  describe(`[${target}] maxHttpBufferSize ${LIMIT}`, () => {
    let server;
    before(async () => { server = await startServer(target, { maxHttpBufferSize: LIMIT }); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;
      // with polling+websocket the big message goes out after the upgrade
      const carrier = transports.includes('websocket') ? 'websocket' : 'polling';

      async function open() {
        const sock = client(server.url, { transports });
        const up = transports.length > 1 ? upgraded(sock, 3000) : null;
        await waitFor(sock, 'connect', 3000);
        if (up) assert.equal(await up, 'websocket');
        return sock;
      }

      it(`${name} the handshake announces maxPayload ${LIMIT}`, T, async () => {
        const sock = await open();
        assert.equal(sock.io.engine._maxPayload, LIMIT);
      });

      it(`${name} a 9000-character message below the limit is echoed`, T, async () => {
        const sock = await open();
        const s = 'y'.repeat(9000);
        assert.equal(await emitWithAck(sock, 'echo', s), s);
      });

      it(`${name} five 6000-character messages sent at once all arrive (the client splits its batches)`, T, async () => {
        const sock = await open();
        const sent = [0, 1, 2, 3, 4].map((i) => String(i).repeat(6000));
        const got = await Promise.all(sent.map((s) => ack(sock, 'echo', [s])));
        assert.deepEqual(got.map((a) => a[0]), sent);
        assert.equal(sock.connected, true);
      });

      for (const [what, payload] of [['a 20 KB string', () => 'x'.repeat(20000)], ['a 20 KB Buffer', () => Buffer.alloc(20000, 7)]]) {
        it(`${name} ${what} over the limit drops the client; the server carries on`, T, async () => {
          const obs = await observer(server.url);
          const sock = await open();
          const id = sock.id;
          const disconnected = waitFor(sock, 'disconnect', 3000);
          sock.emit('echo', payload());
          const [reason] = await disconnected;
          assert.equal(reason, overLimit[carrier].client, 'client-side reason');
          assert.deepEqual(await obs.gone(id), { id, nsp: '/', reason: overLimit[carrier].server });
          // the server is still fine: the observer is alive and a new client connects
          assert.equal(obs.connected, true);
          assert.equal(await emitWithAck(obs, 'echo', 'obs'), 'obs');
          const fresh = await connect(server.url, { transports });
          assert.equal(await emitWithAck(fresh, 'echo', 'fresh'), 'fresh');
        });
      }
    }
  });

  describe(`[${target}] connectTimeout ${CONNECT_TIMEOUT}`, () => {
    let server;
    before(async () => { server = await startServer(target, { connectTimeout: CONNECT_TIMEOUT }); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      it(`${name} a connection that joins no namespace is closed after the connect timeout`, T, async () => {
        const t0 = Date.now();
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 3000 }));
        await waitFor(manager, 'open', 3000);
        const [reason] = await waitFor(manager, 'close', CONNECT_TIMEOUT + 2500);
        const took = Date.now() - t0;
        assert.equal(reason, 'transport close');
        assert.ok(took >= CONNECT_TIMEOUT - 50, `closed after ${took} ms, expected ≈${CONNECT_TIMEOUT}`);
      });

      it(`${name} a connected client outlives the connect timeout`, T, async () => {
        const sock = await connect(server.url, { transports });
        await sleep(CONNECT_TIMEOUT + 400);
        assert.equal(sock.connected, true);
        assert.equal(await emitWithAck(sock, 'echo', 'ok'), 'ok');
      });

      it(`${name} a namespace joined after a while, before the timeout, keeps the connection`, T, async () => {
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 3000 }));
        await waitFor(manager, 'open', 3000);
        await sleep(CONNECT_TIMEOUT / 3);
        const sock = track(manager.socket('/dyn-3'));
        await waitFor(sock, 'connect', 2000);
        await sleep(CONNECT_TIMEOUT);
        assert.equal(sock.connected, true);
        assert.equal(await emitWithAck(sock, 'whoami'), '/dyn-3');
      });
    }
  });
}
