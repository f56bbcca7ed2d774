// Engine.IO v4 heartbeat: the server pings every pingInterval, the client
// answers pong, and a missing pong closes the session after pingTimeout.
// Checked against the Node.js reference with short timers.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 20000 };
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
// Slack for a loaded 2-core machine: timers fire late, never early, but what
// the client measures between two packets can shrink when one of them is
// delivered late (seen with the reference under load), so the lower bounds
// are loose: they only catch an immediate ping or close. Only the first ping,
// timed from before the handshake, is held to pingInterval.
const LATE = 1500;
const MIN_FIRST = PING_INTERVAL - 50;
const MIN_TIMEOUT = 50;

for (const target of targets) {
  describe(`engine heartbeat, pingInterval ${PING_INTERVAL} pingTimeout ${PING_TIMEOUT} [${target}]`, () => {
    let srv;
    let base;
    before(async () => {
      srv = await startServer(target, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
      base = srv.url;
    });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    describe('polling', () => {
      it('the open packet announces the flags', T, async () => {
        const hs = await R.handshake(base);
        assert.equal(hs.open.pingInterval, PING_INTERVAL);
        assert.equal(hs.open.pingTimeout, PING_TIMEOUT);
      });

      it('the server ping 2 arrives after pingInterval; answering 3 keeps the session', T, async () => {
        const t0 = Date.now();
        const hs = await R.handshake(base);
        let res = await R.poll(base, hs.sid);
        const first = Date.now() - t0;
        assert.equal(res.body, '2');
        assert.ok(first >= MIN_FIRST, `first ping after ${first} ms, before pingInterval`);
        assert.ok(first <= PING_INTERVAL + LATE, `first ping after ${first} ms`);
        // three more cycles: the session outlives pingInterval + pingTimeout several times
        for (let i = 0; i < 3; i++) {
          assert.equal((await R.post(base, hs.sid, '3')).body, 'ok');
          const t1 = Date.now();
          res = await R.poll(base, hs.sid);
          const dt = Date.now() - t1;
          assert.equal(res.status, 200);
          assert.equal(res.body, '2', `cycle ${i}`);
          assert.ok(dt <= PING_INTERVAL + LATE, `ping ${i} after ${dt} ms`);
        }
        await R.post(base, hs.sid, '3');
        // still a live session: CONNECT works
        await R.post(base, hs.sid, '40');
        const [connect] = await R.pollUntil(base, hs.sid, 1);
        assert.match(connect, /^40\{"sid":"[^"]+"\}$/);
      });

      it('no pong: the pending GET gets a close packet 1 pingTimeout after the ping, then the sid is unknown', T, async () => {
        const hs = await R.handshake(base);
        assert.equal((await R.poll(base, hs.sid)).body, '2');
        const t1 = Date.now();
        const res = await R.poll(base, hs.sid);
        const dt = Date.now() - t1;
        R.assertClosePayload(res, 'pending GET at ping timeout');
        assert.ok(dt >= MIN_TIMEOUT, `closed ${dt} ms after the ping, before pingTimeout`);
        assert.ok(dt <= PING_TIMEOUT + LATE, `closed ${dt} ms after the ping`);
        R.assertEioError(await R.poll(base, hs.sid), 1, 'GET after ping timeout');
        R.assertEioError(await R.post(base, hs.sid, '3'), 1, 'late pong');
      });

      it('no pong and no pending GET: the sid is unknown after pingTimeout', T, async () => {
        const hs = await R.handshake(base);
        assert.equal((await R.poll(base, hs.sid)).body, '2');
        await R.sleep(PING_TIMEOUT + 300);
        R.assertEioError(await R.poll(base, hs.sid), 1, 'GET after ping timeout');
      });
    });

    describe('websocket', () => {
      it('the server ping 2 arrives after pingInterval; answering 3 keeps the connection', T, async () => {
        const t0 = Date.now();
        const { ws, open } = await R.wsHandshake(base);
        assert.equal(open.pingInterval, PING_INTERVAL);
        for (let i = 0; i < 4; i++) {
          const t1 = Date.now();
          assert.equal(await ws.next(PING_INTERVAL + LATE + 500), '2', `ping ${i}`);
          const dt = Date.now() - (i === 0 ? t0 : t1);
          if (i === 0) assert.ok(dt >= MIN_FIRST, `first ping after ${dt} ms, before pingInterval`);
          assert.ok(dt <= PING_INTERVAL + LATE, `ping ${i} after ${dt} ms`);
          ws.send('3');
        }
        assert.ok(ws.isOpen);
        ws.send('40');
        assert.match(await ws.next(), /^40\{"sid":"[^"]+"\}$/);
      });

      it('no pong: the server closes the websocket (1005) pingTimeout after the ping', T, async () => {
        const { ws } = await R.wsHandshake(base);
        assert.equal(await ws.next(PING_INTERVAL + LATE + 500), '2');
        const { ms } = await R.assertWsClosed(ws, { code: 1005, timeout: PING_TIMEOUT + LATE + 500 });
        assert.ok(ms >= MIN_TIMEOUT, `closed ${ms} ms after the ping, before pingTimeout`);
      });

      // engine.io 6.6: a packet other than a pong received while a pong is
      // awaited restarts the ping timeout once (a big upload may delay the pong).
      it('another packet while a pong is awaited extends the ping timeout once', T, async () => {
        const { ws } = await R.wsConnect(base, { autoPong: false });
        assert.equal(await ws.next(PING_INTERVAL + LATE + 500), '2');
        const tPing = Date.now();
        await R.sleep(100);
        ws.send('42["echo","x"]');
        assert.equal(await ws.next(), '42["echo","x"]');
        const info = await ws.waitClose(PING_TIMEOUT + 100 + LATE + 500);
        const ms = Date.now() - tPing;
        // without the extension it closes 200 ms after the ping; with it
        // 200 ms after the echo was received, so at least 300 ms after the ping
        assert.ok(ms >= 250, `closed ${ms} ms after the ping: the timeout was not extended`);
        assert.equal(info.code, 1005);
      });
    });
  });
}
