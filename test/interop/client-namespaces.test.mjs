// Namespaces: middleware errors, dynamic namespaces, unknown namespaces, and
// several namespaces multiplexed over one Manager (one Engine.IO connection).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, connectError, connected, emitWithAck, observer,
  Manager, track, waitFor, sleep,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };

for (const target of targets) {
  describe(`[${target}] namespaces`, () => {
    let server;
    before(async () => { server = await startServer(target); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      it(`${name} /admin with role admin connects; whoami → "/admin"; echo works`, T, async () => {
        const sock = await connect(server.url, { transports, auth: { role: 'admin' } }, '/admin');
        assert.equal(sock.nsp, '/admin');
        assert.equal(await emitWithAck(sock, 'whoami'), '/admin');
        assert.deepEqual(await emitWithAck(sock, 'echo', { x: [1, 'ü'] }), { x: [1, 'ü'] });
      });

      it(`${name} /admin with a wrong role → connect_error "forbidden" without data`, T, async () => {
        const err = await connectError(server.url, { transports, auth: { role: 'user' } }, '/admin');
        assert.ok(err instanceof Error);
        assert.equal(err.message, 'forbidden');
        assert.equal(err.data, undefined);
      });

      it(`${name} /admin without auth → connect_error "forbidden"`, T, async () => {
        const err = await connectError(server.url, { transports }, '/admin');
        assert.equal(err.message, 'forbidden');
      });

      it(`${name} / with token "bad" → connect_error "unauthorized" with data`, T, async () => {
        const err = await connectError(server.url, { transports, auth: { token: 'bad' } });
        assert.equal(err.message, 'unauthorized');
        assert.deepEqual(err.data, { reason: 'bad token' });
      });

      it(`${name} / with another token connects`, T, async () => {
        const sock = await connect(server.url, { transports, auth: { token: 'good' } });
        assert.ok(sock.id);
      });

      it(`${name} dynamic /dyn-42 connects; whoami → "/dyn-42"`, T, async () => {
        const sock = await connect(server.url, { transports }, '/dyn-42');
        assert.equal(await emitWithAck(sock, 'whoami'), '/dyn-42');
        assert.equal(await emitWithAck(sock, 'echo', 7), 7);
      });

      it(`${name} /dyn-x does not match the dynamic pattern → "Invalid namespace"`, T, async () => {
        const err = await connectError(server.url, { transports }, '/dyn-x');
        assert.equal(err.message, 'Invalid namespace');
      });

      it(`${name} /nope → connect_error "Invalid namespace"`, T, async () => {
        const err = await connectError(server.url, { transports }, '/nope');
        assert.ok(err instanceof Error);
        assert.equal(err.message, 'Invalid namespace');
        assert.equal(err.data, undefined);
      });

      it(`${name} namespaces multiplexed over one Manager; disconnecting one leaves the others working`, T, async () => {
        const obs = await observer(server.url);
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 3000 }));
        const root = manager.socket('/');
        const admin = manager.socket('/admin', { auth: { role: 'admin' } });
        const dyn = manager.socket('/dyn-7');
        await Promise.all([connected(root), connected(admin), connected(dyn)]);
        const engine = manager.engine;
        assert.equal(root.io, manager);
        assert.equal(admin.io, manager);
        assert.equal(await emitWithAck(admin, 'whoami'), '/admin');
        assert.equal(await emitWithAck(dyn, 'whoami'), '/dyn-7');

        // three socket ids on one engine
        assert.equal(new Set([root.id, admin.id, dyn.id]).size, 3);

        const adminId = admin.id;
        const adminDisconnect = waitFor(admin, 'disconnect', 2000);
        admin.disconnect();
        assert.deepEqual((await adminDisconnect).slice(0, 1), ['io client disconnect']);
        assert.deepEqual(await obs.gone(adminId), { id: adminId, nsp: '/admin', reason: 'client namespace disconnect' });

        // the others keep working over the same engine
        assert.equal(manager.engine, engine);
        assert.equal(engine.readyState, 'open');
        assert.equal(root.connected && dyn.connected, true);
        assert.equal(await emitWithAck(root, 'echo', 'r'), 'r');
        assert.equal(await emitWithAck(dyn, 'whoami'), '/dyn-7');

        // and "/" can leave while the dynamic namespace stays
        const rootId = root.id;
        root.disconnect();
        assert.deepEqual(await obs.gone(rootId), { id: rootId, nsp: '/', reason: 'client namespace disconnect' });
        assert.equal(await emitWithAck(dyn, 'echo', 'd'), 'd');
        assert.equal(engine.readyState, 'open');

        // the namespace can be joined again on the same connection (the
        // manager reconnects its cached, inactive "/admin" socket by itself)
        const admin2 = manager.socket('/admin', { auth: { role: 'admin' } });
        await connected(admin2);
        assert.equal(await emitWithAck(admin2, 'whoami'), '/admin');
        assert.equal(manager.engine, engine);
      });

      it(`${name} five dynamic namespaces on one Manager, interleaved emits`, T, async () => {
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 5000 }));
        const names = [1, 22, 333, 4444, 55555].map((n) => `/dyn-${n}`);
        const socks = names.map((n) => manager.socket(n));
        await Promise.all(socks.map((s) => connected(s)));
        const results = await Promise.all(socks.flatMap((s, i) => [
          emitWithAck(s, 'whoami'),
          emitWithAck(s, 'echo', { i, nsp: names[i] }),
        ]));
        assert.deepEqual(results, names.flatMap((n, i) => [n, { i, nsp: n }]));
        // one engine for all of them
        assert.equal(new Set(socks.map((s) => s.io.engine)).size, 1);
      });

      it(`${name} a refused namespace does not close the shared connection`, T, async () => {
        const manager = track(new Manager(server.url, { transports, reconnection: false, timeout: 3000 }));
        const root = manager.socket('/');
        await connected(root);
        const engine = manager.engine;
        const bad = manager.socket('/admin', { auth: { role: 'nobody' } });
        const nope = manager.socket('/nope');
        const [[e1], [e2]] = await Promise.all([waitFor(bad, 'connect_error', 2000), waitFor(nope, 'connect_error', 2000)]);
        assert.equal(e1.message, 'forbidden');
        assert.equal(e2.message, 'Invalid namespace');
        await sleep(100);
        assert.equal(engine.readyState, 'open');
        assert.equal(root.connected, true);
        assert.equal(await emitWithAck(root, 'echo', 1), 1);
      });
    }
  });
}
