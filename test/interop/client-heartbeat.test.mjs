// Heartbeat with a short ping cycle (pingInterval 300 ms, pingTimeout 200 ms):
// a client that stops answering pings is dropped with "ping timeout"; a
// normal client stays connected over many cycles.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, emitWithAck, observer, waitFor, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

// dropPongs makes the client's engine stop answering the server's pings: the
// engine.io-client Socket answers a "ping" with this._sendPacket("pong").
function dropPongs(sock) {
  const engine = sock.io.engine;
  const real = engine._sendPacket;
  let dropped = 0;
  engine._sendPacket = function (type, ...rest) {
    if (type === 'pong') { dropped++; return undefined; }
    return real.call(this, type, ...rest);
  };
  return () => dropped;
}

for (const target of targets) {
  describe(`[${target}] heartbeat`, () => {
    let server;
    before(async () => { server = await startServer(target, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT }); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      it(`${name} the handshake announces pingInterval ${PING_INTERVAL} and pingTimeout ${PING_TIMEOUT}`, T, async () => {
        const sock = await connect(server.url, { transports });
        assert.equal(sock.io.engine._pingInterval, PING_INTERVAL);
        assert.equal(sock.io.engine._pingTimeout, PING_TIMEOUT);
      });

      it(`${name} a client that stops answering pings is dropped with "ping timeout"`, T, async () => {
        const obs = await observer(server.url);
        const sock = await connect(server.url, { transports });
        const id = sock.id;
        const t0 = Date.now();
        const dropped = dropPongs(sock);
        const disconnected = waitFor(sock, 'disconnect', 3000);
        const gone = await obs.gone(id, 2500);
        const took = Date.now() - t0;
        assert.deepEqual(gone, { id, nsp: '/', reason: 'ping timeout' });
        assert.ok(dropped() >= 1, 'at least one pong was dropped');
        // the server waits one ping cycle (interval + timeout) before dropping
        assert.ok(took >= PING_INTERVAL, `dropped after ${took} ms, expected ≈${PING_INTERVAL + PING_TIMEOUT}`);
        assert.ok(took <= 2000, `dropped after ${took} ms, expected ≈${PING_INTERVAL + PING_TIMEOUT}`);
        // the client sees its transport closed by the server
        const [reason] = await disconnected;
        assert.equal(reason, 'transport close');
        // the observer itself is fine
        assert.equal(obs.connected, true);
      });

      it(`${name} after a ping timeout a client with reconnection on reconnects by itself`, T, async () => {
        const sock = await connect(server.url, {
          transports, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200, randomizationFactor: 0,
        });
        const firstId = sock.id;
        const firstEngine = sock.io.engine;
        dropPongs(sock); // only this engine: the reconnection gets a fresh one
        const [reason] = await waitFor(sock, 'disconnect', 3000);
        assert.equal(reason, 'transport close');
        await waitFor(sock, 'connect', 4000);
        assert.notEqual(sock.io.engine, firstEngine);
        assert.notEqual(sock.id, firstId);
        assert.equal(await emitWithAck(sock, 'echo', 'back'), 'back');
        sock.io.reconnection(false);
      });

      it(`${name} a normal client stays connected over several ping cycles`, T, async () => {
        const sock = await connect(server.url, { transports });
        let pings = 0;
        sock.io.engine.on('ping', () => { pings++; });
        const disconnects = [];
        sock.on('disconnect', (r) => disconnects.push(r));
        await sleep(6 * PING_INTERVAL);
        assert.deepEqual(disconnects, []);
        assert.equal(sock.connected, true);
        assert.ok(pings >= 3, `got ${pings} pings in ${6 * PING_INTERVAL} ms`);
        assert.ok(pings <= 8, `got ${pings} pings in ${6 * PING_INTERVAL} ms`);
        assert.equal(await emitWithAck(sock, 'echo', 'alive'), 'alive');
      });
    }
  });
}
