// Disconnections and the reasons each side sees: server-initiated
// (disconnect-me with and without closing the connection), client-initiated
// (socket.disconnect()), and a killed transport (engine.close()).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, connected, emitWithAck, observer, waitFor,
  Manager, track, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };

for (const target of targets) {
  describe(`[${target}] disconnect`, () => {
    let server;
    before(async () => { server = await startServer(target); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      for (const close of [false, true]) {
        it(`${name} disconnect-me(${close}): client sees "io server disconnect", observer "server namespace disconnect"`, T, async () => {
          const obs = await observer(server.url);
          const sock = await connect(server.url, { transports });
          const id = sock.id;
          const disconnected = waitFor(sock, 'disconnect', 3000);
          sock.emit('disconnect-me', close);
          const [reason] = await disconnected;
          assert.equal(reason, 'io server disconnect');
          assert.equal(sock.connected, false);
          assert.deepEqual(await obs.gone(id), { id, nsp: '/', reason: 'server namespace disconnect' });
          // no reconnection after a server-side disconnect
          await sleep(100);
          assert.equal(sock.connected, false);
        });
      }

      it(`${name} after "io server disconnect" a manual connect() gets a new session`, T, async () => {
        const sock = await connect(server.url, { transports });
        const first = sock.id;
        const disconnected = waitFor(sock, 'disconnect', 3000);
        sock.emit('disconnect-me', false);
        await disconnected;
        sock.connect();
        await connected(sock);
        assert.notEqual(sock.id, first);
        assert.equal(await emitWithAck(sock, 'echo', 'again'), 'again');
      });

      it(`${name} disconnect-me(false) with two namespaces: only "/" leaves, /admin stays`, T, async () => {
        const obs = await observer(server.url);
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 3000 }));
        const root = manager.socket('/');
        const admin = manager.socket('/admin', { auth: { role: 'admin' } });
        await Promise.all([connected(root), connected(admin)]);
        const rootId = root.id;
        const disconnected = waitFor(root, 'disconnect', 3000);
        root.emit('disconnect-me', false);
        assert.equal((await disconnected)[0], 'io server disconnect');
        assert.deepEqual(await obs.gone(rootId), { id: rootId, nsp: '/', reason: 'server namespace disconnect' });
        await sleep(100);
        assert.equal(admin.connected, true);
        assert.equal(manager.engine.readyState, 'open');
        assert.equal(await emitWithAck(admin, 'whoami'), '/admin');
      });

      it(`${name} disconnect-me(true) with two namespaces: both are disconnected by the server`, T, async () => {
        const obs = await observer(server.url);
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 3000 }));
        const root = manager.socket('/');
        const admin = manager.socket('/admin', { auth: { role: 'admin' } });
        await Promise.all([connected(root), connected(admin)]);
        const rootId = root.id;
        const adminId = admin.id;
        const d1 = waitFor(root, 'disconnect', 3000);
        const d2 = waitFor(admin, 'disconnect', 3000);
        const closed = waitFor(manager, 'close', 3000);
        root.emit('disconnect-me', true);
        assert.equal((await d1)[0], 'io server disconnect');
        assert.equal((await d2)[0], 'io server disconnect');
        await closed;
        assert.deepEqual(await obs.gone(rootId), { id: rootId, nsp: '/', reason: 'server namespace disconnect' });
        assert.deepEqual(await obs.gone(adminId), { id: adminId, nsp: '/admin', reason: 'server namespace disconnect' });
      });

      it(`${name} socket.disconnect(): client "io client disconnect", observer "client namespace disconnect"`, T, async () => {
        const obs = await observer(server.url);
        const sock = await connect(server.url, { transports });
        const id = sock.id;
        const disconnected = waitFor(sock, 'disconnect', 3000);
        sock.disconnect();
        assert.equal((await disconnected)[0], 'io client disconnect');
        assert.deepEqual(await obs.gone(id), { id, nsp: '/', reason: 'client namespace disconnect' });
      });

      it(`${name} killing the transport (engine.close()): observer sees "transport close"`, T, async () => {
        const obs = await observer(server.url);
        const sock = await connect(server.url, { transports });
        if (transports.length > 1) await sleep(50);
        const id = sock.id;
        const disconnected = waitFor(sock, 'disconnect', 3000);
        sock.io.engine.close();
        const [reason] = await disconnected;
        assert.equal(reason, 'forced close'); // client-side reason of the official client
        assert.deepEqual(await obs.gone(id), { id, nsp: '/', reason: 'transport close' });
      });

      it(`${name} an ack the server never sends is failed on disconnect`, T, async () => {
        const sock = await connect(server.url, { transports });
        const result = new Promise((resolve) => {
          sock.timeout(5000).emit('disconnect-me', false, (err) => resolve(err));
        });
        const err = await result;
        assert.ok(err instanceof Error);
        assert.equal(err.message, 'socket has been disconnected');
      });

      it(`${name} emits from the client after a server disconnect are buffered, not sent`, T, async () => {
        const obs = await observer(server.url);
        const sock = await connect(server.url, { transports });
        const id = sock.id;
        const disconnected = waitFor(sock, 'disconnect', 3000);
        sock.emit('disconnect-me', false);
        await disconnected;
        await obs.gone(id);
        sock.emit('to', { rooms: ['observers'], event: 'leak', args: [] });
        const leak = waitFor(obs, 'leak', 200).then(() => true, () => false);
        assert.equal(await leak, false);
      });
    }

    it(`[${target}] the observer sees every disconnect of several clients, each once`, T, async () => {
      const obs = await observer(server.url);
      const socks = [];
      for (const transports of transportSets) socks.push(await connect(server.url, { transports }));
      const ids = socks.map((s) => s.id);
      socks[0].disconnect();
      socks[1].emit('disconnect-me', false);
      socks[2].io.engine.close();
      const reports = await Promise.all(ids.map((id) => obs.gone(id)));
      assert.deepEqual(reports.map((r) => r.reason), ['client namespace disconnect', 'server namespace disconnect', 'transport close']);
      await sleep(150);
      for (const id of ids) assert.equal(obs.seen.filter((s) => s.id === id).length, 1, `${id} reported once`);
    });
  });
}
