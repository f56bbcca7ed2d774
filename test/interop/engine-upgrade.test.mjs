// Engine.IO v4 transport upgrade (polling -> websocket), spoken on the wire
// and checked against the Node.js reference.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };

for (const target of targets) {
  describe(`engine upgrade [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    // Polling session connected to `/`, a websocket opened with its sid and
    // probed: resolves with { c, ws } once 3probe was received.
    async function probed() {
      const c = await R.pollingConnect(base);
      const ws = await R.openWs(base, { sid: c.sid });
      ws.send('2probe');
      assert.equal(await ws.next(), '3probe');
      return { c, ws };
    }

    it('full dance: 2probe -> 3probe, the pending GET gets a noop 6, 5 switches, the socket works over ws', T, async () => {
      const c = await R.pollingConnect(base);
      const pending = R.startPoll(base, c.sid);
      await R.sleep(50);
      const ws = await R.openWs(base, { sid: c.sid });
      // the server says nothing on the new websocket before the probe (no open packet)
      assert.equal(await ws.maybeNext(200), null);
      ws.send('2probe');
      assert.equal(await ws.next(), '3probe');
      const t0 = Date.now();
      const res = await R.withTimeout(pending.promise, 2000, 'pending GET during upgrade');
      assert.equal(res.status, 200);
      assert.equal(res.body, '6', 'the pending GET is released with a noop');
      assert.ok(Date.now() - t0 < 1500, 'the noop comes soon');
      ws.send('5');
      ws.send('421["echo","y"]');
      assert.equal(await ws.next(), '431["y"]');
      ws.send('42["echo","z"]');
      assert.equal(await ws.next(), '42["echo","z"]');
      // polling is over for that sid: 400 code 3 "Bad request" (transport mismatch)
      R.assertEioError(await R.poll(base, c.sid), 3, 'GET after upgrade');
      R.assertEioError(await R.post(base, c.sid, '42["echo","p"]'), 3, 'POST after upgrade');
      // and that did not close the upgraded session
      await R.assertEchoWs(ws);
    });

    it('the Socket.IO socket keeps its id across the upgrade', T, async () => {
      const { c, ws } = await probed();
      ws.send('5');
      ws.send('421["rooms"]');
      const m = /^431\[(.*)\]$/.exec(await ws.next());
      assert.ok(m);
      assert.ok(JSON.parse(m[1]).includes(c.id), `rooms ${m[1]} include ${c.id}`);
    });

    it('a GET during the upgrade (after the probe) is answered with a noop 6', T, async () => {
      const { c } = await probed();
      for (let i = 0; i < 2; i++) {
        const res = await R.poll(base, c.sid, { timeout: 3000 });
        assert.equal(res.status, 200);
        assert.equal(res.body, '6');
      }
    });

    it('packets buffered before 5 arrive once, in order, on the websocket; nothing is lost on polling', T, async () => {
      const { c, ws } = await probed();
      // the noop released any poll; no GET is pending now, so the server must buffer
      const to = (arg) => JSON.stringify({ rooms: [c.id], event: 'e', args: [arg] });
      const res = await R.post(base, c.sid, [`42["to",${to('a')}]`, `421["to",${to('b')}]`, '42["echo","c"]']);
      assert.equal(res.body, 'ok');
      await R.sleep(200); // let the server handle them while it cannot write
      assert.deepEqual(ws.received, ['3probe'], 'nothing is sent on the websocket before 5');
      ws.send('5');
      const got = [];
      for (;;) {
        const m = await ws.maybeNext(500);
        if (m === null) break;
        got.push(m);
      }
      assert.deepEqual(got, ['42["e","a"]', '42["e","b"]', '431[]', '42["echo","c"]']);
      R.assertEioError(await R.poll(base, c.sid), 3, 'GET after upgrade');
    });

    it('a GET still pending when 5 arrives is answered (close 1 or noop 6) and carries no message', T, async () => {
      const { c, ws } = await probed();
      assert.equal((await R.poll(base, c.sid)).body, '6');
      const pending = R.startPoll(base, c.sid);
      await R.sleep(30);
      ws.send('5');
      const res = await R.withTimeout(pending.promise, 2000, 'pending GET at upgrade');
      assert.equal(res.status, 200);
      assert.ok(res.body === '1' || res.body === '6', `pending GET got ${JSON.stringify(res.body)}`);
      await R.assertEchoWs(ws);
    });

    it('a second websocket for an upgraded sid is accepted and then closed (1005) without a message', T, async () => {
      const { c, ws } = await probed();
      ws.send('5');
      await R.assertEchoWs(ws, 'upgraded');
      const second = await R.tryWs(base, { sid: c.sid });
      assert.ok(second.ws, `expected an upgrade, got ${JSON.stringify(second.status ?? second.error?.message)}`);
      assert.equal(await second.ws.maybeNext(300), null);
      await R.assertWsClosed(second.ws, { code: 1005 });
      await R.assertEchoWs(ws, 'first-still-works');
    });

    it('a second websocket during an upgrade (after the probe) is closed (1005); the first one upgrades', T, async () => {
      const { c, ws } = await probed();
      const second = await R.tryWs(base, { sid: c.sid });
      assert.ok(second.ws, 'expected an upgrade');
      assert.equal(await second.ws.maybeNext(300), null);
      await R.assertWsClosed(second.ws, { code: 1005 });
      ws.send('5');
      await R.assertEchoWs(ws);
    });

    it('a non-probe packet on the upgrading websocket closes it (1005); polling goes on', T, async () => {
      const c = await R.pollingConnect(base);
      const ws = await R.openWs(base, { sid: c.sid });
      ws.send('42["echo","x"]');
      await R.assertWsClosed(ws, { code: 1005 });
      assert.deepEqual(ws.received, []);
      await R.assertEchoPolling(base, c.sid);
    });

    it('the upgrading websocket closed by the client after the probe: polling goes on', T, async () => {
      const { c, ws } = await probed();
      await ws.close();
      await R.sleep(100);
      await R.assertEchoPolling(base, c.sid);
    });

    it('closing the upgraded websocket ends the session', T, async () => {
      const { c, ws } = await probed();
      ws.send('5');
      await R.assertEchoWs(ws);
      await ws.close();
      await R.sleep(200);
      R.assertEioError(await R.poll(base, c.sid), 1, 'GET after the websocket closed');
    });

    // engine.io 6.6 does not insist on the probe: an upgrade packet alone switches transports.
    it('5 without a prior probe still upgrades (reference behaviour)', T, async () => {
      const c = await R.pollingConnect(base);
      const ws = await R.openWs(base, { sid: c.sid });
      ws.send('5');
      await R.assertEchoWs(ws);
      R.assertEioError(await R.poll(base, c.sid), 3, 'GET after upgrade');
    });
  });
}
