// Connection-state recovery with the official client: a client whose
// connection breaks gets its socket back (same id, rooms) with the events it
// missed; one that chose to leave does not.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, connected, emitWithAck, observer, waitFor, ack, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 15000 };

for (const target of targets) {
  describe(`[${target}] connection-state recovery`, () => {
    let server;
    before(async () => { server = await startServer(target, { recovery: 30000 }); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;
      const opts = { transports, reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300 };

      it(`${name} a broken connection is recovered with the missed events`, T, async () => {
        const obs = await observer(server.url);
        const a = await connect(server.url, opts);
        const b = await connect(server.url, { transports });
        assert.equal(a.recovered, false);
        const room = `r-${Math.random().toString(36).slice(2)}`;
        await ack(a, 'join', [room]);
        const news = [];
        a.on('news', (n) => news.push(n));
        await ack(b, 'to', [{ rooms: [room], event: 'news', args: [1] }]);
        for (let t = 0; t < 100 && news.length < 1; t++) await sleep(20);
        assert.deepEqual(news, [1]);

        const id = a.id;
        const reconnected = waitFor(a, 'connect', 8000);
        a.io.engine.close(); // the network fails; the client will reconnect
        assert.equal((await obs.gone(id)).reason, 'transport close');
        await ack(b, 'to', [{ rooms: [room], event: 'news', args: [2] }]);
        await ack(b, 'to', [{ rooms: ['elsewhere'], event: 'news', args: [3] }]);
        await reconnected;
        assert.equal(a.recovered, true, 'recovered');
        assert.equal(a.id, id, 'same socket id');
        for (let t = 0; t < 100 && news.length < 2; t++) await sleep(20);
        assert.deepEqual(news, [1, 2]);
        // still in the room after recovery
        assert.ok((await emitWithAck(a, 'rooms')).includes(room));
      });

      it(`${name} a client that disconnected on purpose is not recovered`, T, async () => {
        const a = await connect(server.url, opts);
        const b = await connect(server.url, { transports });
        const got = [];
        a.on('news', (n) => got.push(n));
        await ack(b, 'to', [{ rooms: [a.id], event: 'news', args: [1] }]);
        for (let t = 0; t < 100 && got.length < 1; t++) await sleep(20);
        const id = a.id;
        a.disconnect();
        a.connect();
        await connected(a, 5000);
        assert.equal(a.recovered, false);
        assert.notEqual(a.id, id);
      });
    }
  });
}
