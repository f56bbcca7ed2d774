// Engine.IO v4 over a direct websocket and Socket.IO v5 packet handling on
// raw frames, checked against the Node.js reference. Every server-side
// close here is engine.io's ws.close() without a status: the client sees 1005.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };
const CONNECT_RE = /^40\{"sid":"([^"]+)"\}$/;

for (const target of targets) {
  describe(`engine websocket [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    describe('Engine.IO frames', () => {
      const closing = [
        ['2probe on a direct websocket (nothing to upgrade; a client ping is the wrong direction)', '2probe'],
        ['a client ping 2', '2'],
        ['a text frame that is not an Engine.IO packet ("x")', 'x'],
        ['unknown packet type 9', '9'],
        ['an empty text frame', ''],
      ];
      for (const [name, frame] of closing) {
        it(`${name} -> closed (1005)`, T, async () => {
          const { ws } = await R.wsHandshake(base);
          ws.send(frame);
          await R.assertWsClosed(ws, { label: name });
          assert.deepEqual(ws.queue, []);
        });
      }

      it('a binary frame before any CONNECT -> closed (1005)', T, async () => {
        const { ws } = await R.wsHandshake(base);
        ws.send(Buffer.from([1, 2, 3]));
        await R.assertWsClosed(ws);
      });

      // engine.io only acts on a close packet over polling; over websocket the
      // client closes the socket itself, and a `1` frame is ignored.
      it('a close packet 1 over websocket is ignored; the connection stays usable', T, async () => {
        const { ws } = await R.wsHandshake(base);
        ws.send('1');
        assert.equal(await ws.maybeNext(200), null);
        assert.ok(ws.isOpen);
        ws.send('40');
        assert.match(await ws.next(), CONNECT_RE);
      });

      it('noop 6 and an unsolicited pong 3 are ignored', T, async () => {
        const { ws } = await R.wsConnect(base);
        ws.send('6');
        ws.send('3');
        await R.assertEchoWs(ws);
      });

      it('several Engine.IO packets sent back to back are handled in order', T, async () => {
        const { ws } = await R.wsConnect(base);
        for (const v of ['a', 'b', 'c', 'd']) ws.send(`42["echo","${v}"]`);
        for (const v of ['a', 'b', 'c', 'd']) assert.equal(await ws.next(), `42["echo","${v}"]`);
      });
    });

    describe('Socket.IO packets', () => {
      it('CONNECT 40 -> 40{"sid":...}: no pid, an id that is not the Engine.IO sid, new on each connection', T, async () => {
        const a = await R.wsConnect(base);
        const b = await R.wsConnect(base);
        assert.match(a.connect, CONNECT_RE);
        assert.ok(!a.connect.includes('pid'));
        assert.notEqual(a.id, a.sid);
        assert.notEqual(a.id, b.id);
      });

      it('EVENT and ACK: 42["echo","x"] -> 42["echo","x"]; 421["echo","y"] -> 431["y"]', T, async () => {
        const { ws } = await R.wsConnect(base);
        ws.send('42["echo","x"]');
        assert.equal(await ws.next(), '42["echo","x"]');
        ws.send('421["echo","y"]');
        assert.equal(await ws.next(), '431["y"]');
        ws.send('4212345["echo",{"b":[1,2.5,"é"],"a":null}]');
        assert.equal(await ws.next(), '4312345[{"b":[1,2.5,"é"],"a":null}]');
      });

      it('binary event: 451-[...] + a binary frame -> the same back', T, async () => {
        const { ws } = await R.wsConnect(base);
        const header = '451-["echo",{"_placeholder":true,"num":0}]';
        ws.send(header);
        ws.send(Buffer.from([1, 2, 3]));
        assert.equal(await ws.next(), header);
        assert.deepEqual(await ws.next(), Buffer.from([1, 2, 3]));
      });

      it('binary ack: 451-7[...] + a binary frame -> 461-7[...] + the binary frame', T, async () => {
        const { ws } = await R.wsConnect(base);
        ws.send('451-7["echo",{"_placeholder":true,"num":0}]');
        ws.send(Buffer.from([9, 8]));
        assert.equal(await ws.next(), '461-7[{"_placeholder":true,"num":0}]');
        assert.deepEqual(await ws.next(), Buffer.from([9, 8]));
      });

      it('10 attachments (the limit) are accepted', T, async () => {
        const { ws } = await R.wsConnect(base);
        const ph = Array.from({ length: 10 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(',');
        ws.send(`4510-["echo",${ph}]`);
        for (let i = 0; i < 10; i++) ws.send(Buffer.from([i]));
        assert.equal(await ws.next(), `4510-["echo",${ph}]`);
        for (let i = 0; i < 10; i++) assert.deepEqual(await ws.next(), Buffer.from([i]));
      });

      const closing = [
        ['unknown packet type 49', ['49']],
        ['EVENT with non-array data 42{"a":1}', ['42{"a":1}']],
        ['EVENT with an empty array 42[]', ['42[]']],
        ['EVENT with invalid JSON', ['42["echo"']],
        ['reserved event 42["disconnect"]', ['42["disconnect"]']],
        ['reserved event 42["connect"]', ['42["connect"]']],
        ['reserved event 42["disconnecting"]', ['42["disconnecting"]']],
        ['reserved event 42["newListener"]', ['42["newListener"]']],
        ['ACK with non-array data 431{}', ['431{}']],
        ['a second CONNECT to a connected namespace', ['40']],
        ['a CONNECT_ERROR from the client 44{}', ['44{}']],
        ['DISCONNECT with data 41{}', ['41{}']],
        ['an EVENT for a namespace not connected 42/nope,[...]', ['42/nope,["echo","x"]']],
        ['too many attachments 4511-', ['4511-["echo"]']],
        ['zero attachments 450-', ['450-["echo"]']],
        ['a malformed attachment count 45x-', ['45x-["echo"]']],
        ['a text frame while attachments are awaited', ['451-["echo",{"_placeholder":true,"num":0}]', '42["echo","x"]']],
        ['a binary frame without a binary packet header', [Buffer.from([1, 2])]],
        ['a placeholder number out of range', ['451-["echo",{"_placeholder":true,"num":5}]', Buffer.from([1])]],
      ];
      for (const [name, frames] of closing) {
        it(`${name} -> connection closed (1005)`, T, async () => {
          const { ws } = await R.wsConnect(base);
          for (const f of frames) ws.send(f);
          await R.assertWsClosed(ws, { label: name });
          assert.deepEqual(ws.queue, [], 'nothing is answered');
        });
      }

      const beforeConnect = [
        ['an EVENT before CONNECT 42["x"]', '42["x"]'],
        ['a DISCONNECT before CONNECT 41', '41'],
        ['an ACK before CONNECT 43[]', '43[]'],
        ['CONNECT with invalid JSON 40{', '40{'],
        ['CONNECT with non-object data 40[1]', '40[1]'],
        ['CONNECT with a string 40"x"', '40"x"'],
      ];
      for (const [name, frame] of beforeConnect) {
        it(`${name} -> connection closed (1005)`, T, async () => {
          const { ws } = await R.wsHandshake(base);
          ws.send(frame);
          await R.assertWsClosed(ws, { label: name });
          assert.deepEqual(ws.queue, []);
        });
      }

      const ignored = [
        ['an ACK for an unknown id 4399[]', '4399[]'],
        ['an EVENT with a numeric name 42[1]', '42[1]'],
        ['an EVENT without data 42', '42'],
        ['an EVENT nobody listens to 42["nobody-listens"]', '42["nobody-listens"]'],
      ];
      for (const [name, frame] of ignored) {
        it(`${name} is accepted silently; the connection stays`, T, async () => {
          const { ws } = await R.wsConnect(base);
          ws.send(frame);
          await R.assertEchoWs(ws);
        });
      }

      it('CONNECT to an unknown namespace -> 44/nope,{"message":"Invalid namespace"}; the connection stays', T, async () => {
        const { ws } = await R.wsHandshake(base);
        ws.send('40/nope,');
        assert.equal(await ws.next(), '44/nope,{"message":"Invalid namespace"}');
        ws.send('40');
        assert.match(await ws.next(), CONNECT_RE);
        await R.assertEchoWs(ws);
      });

      it('middleware error -> 44{"message":"unauthorized","data":{"reason":"bad token"}}; the connection stays', T, async () => {
        const { ws } = await R.wsHandshake(base);
        ws.send('40{"token":"bad"}');
        assert.equal(await ws.next(), '44{"message":"unauthorized","data":{"reason":"bad token"}}');
        ws.send('40{"token":"good"}');
        assert.match(await ws.next(), CONNECT_RE);
      });

      it('CONNECT to /admin: refused 44/admin,{"message":"forbidden"}, then accepted as 40/admin,{"sid":...}', T, async () => {
        const { ws } = await R.wsHandshake(base);
        ws.send('40/admin,');
        assert.equal(await ws.next(), '44/admin,{"message":"forbidden"}');
        ws.send('40/admin,{"role":"admin"}');
        assert.match(await ws.next(), /^40\/admin,\{"sid":"[^"]+"\}$/);
        ws.send('42/admin,["echo","a"]');
        assert.equal(await ws.next(), '42/admin,["echo","a"]');
      });

      it('41: the namespace socket leaves, the connection stays, a new CONNECT gets a new id', T, async () => {
        const { ws, id } = await R.wsConnect(base);
        ws.send('41');
        assert.equal(await ws.maybeNext(200), null, 'the server does not answer a DISCONNECT');
        assert.ok(ws.isOpen);
        ws.send('40');
        const m = CONNECT_RE.exec(await ws.next());
        assert.ok(m);
        assert.notEqual(m[1], id);
        await R.assertEchoWs(ws);
      });

      it('41 then an EVENT on the left namespace -> connection closed (1005)', T, async () => {
        const { ws } = await R.wsConnect(base);
        ws.send('41');
        // a gap: the reference handles a packet on the next tick, so an EVENT
        // read together with the 41 still reaches the leaving socket (and is dropped)
        await R.sleep(100);
        ws.send('42["echo","x"]');
        await R.assertWsClosed(ws);
        assert.deepEqual(ws.queue, []);
      });
    });
  });

  describe(`Socket.IO connect timeout 500 ms [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target, { connectTimeout: 500 }); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    it('no CONNECT within connectTimeout -> websocket closed (1005)', T, async () => {
      const t0 = Date.now();
      const { ws } = await R.wsHandshake(base);
      await R.assertWsClosed(ws, { timeout: 3000 });
      const ms = Date.now() - t0;
      assert.ok(ms >= 450, `closed after ${ms} ms, before connectTimeout`);
      assert.deepEqual(ws.queue, []);
    });

    it('no CONNECT within connectTimeout -> the pending GET gets a close packet 1 over polling', T, async () => {
      const t0 = Date.now();
      const hs = await R.handshake(base);
      const res = await R.poll(base, hs.sid, { timeout: 3000 });
      R.assertClosePayload(res, 'GET at connect timeout');
      assert.ok(Date.now() - t0 >= 450);
      R.assertEioError(await R.poll(base, hs.sid), 1);
    });

    it('a refused CONNECT (unknown namespace) does not stop the timer', T, async () => {
      const { ws } = await R.wsHandshake(base);
      ws.send('40/nope,');
      assert.equal(await ws.next(), '44/nope,{"message":"Invalid namespace"}');
      await R.assertWsClosed(ws, { timeout: 3000 });
    });

    it('a CONNECT in time stops the timer, even after the socket left again (41)', T, async () => {
      const { ws } = await R.wsConnect(base);
      ws.send('41');
      await R.sleep(900);
      assert.ok(ws.isOpen, 'still open after connectTimeout');
      ws.send('40');
      assert.match(await ws.next(), CONNECT_RE);
    });
  });
}
