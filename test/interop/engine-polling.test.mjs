// Engine.IO v4 HTTP long-polling and Socket.IO v5 over it, spoken on the
// wire with fetch, checked against the Node.js reference.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };
const CONNECT_RE = /^40\{"sid":"([^"]+)"\}$/;

// A GET still pending after ms resolves to 'pending'.
function settledWithin(promise, ms) {
  return Promise.race([promise, R.sleep(ms).then(() => 'pending')]);
}

for (const target of targets) {
  describe(`engine polling [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    // A session whose pending GET must be answered with a close packet `1`,
    // after which the sid is unknown.
    async function assertClosedWithPendingGet(sid, pending, label) {
      const res = await pending.promise;
      R.assertClosePayload(res, `${label}: the pending GET gets a close packet`);
      R.assertEioError(await R.poll(base, sid), 1, `${label}: GET afterwards`);
    }

    it('open packet carries the default heartbeat and maxPayload', T, async () => {
      const hs = await R.handshake(base);
      assert.equal(hs.open.pingInterval, 25000);
      assert.equal(hs.open.pingTimeout, 20000);
      assert.equal(hs.open.maxPayload, 1000000);
      assert.deepEqual(hs.open.upgrades, ['websocket']);
    });

    it('POST answers 200 "ok" as text/html', T, async () => {
      const hs = await R.handshake(base);
      const res = await R.post(base, hs.sid, '40');
      assert.equal(res.status, 200);
      assert.equal(res.contentType, 'text/html');
      assert.equal(res.body, 'ok');
    });

    it('CONNECT 40 -> GET returns 40{"sid":...} (no pid, not the Engine.IO sid), text/plain; charset=UTF-8', T, async () => {
      const hs = await R.handshake(base);
      assert.equal((await R.post(base, hs.sid, '40')).status, 200);
      const res = await R.poll(base, hs.sid);
      assert.equal(res.status, 200);
      assert.equal(res.contentType, 'text/plain; charset=UTF-8');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const m = CONNECT_RE.exec(res.body);
      assert.ok(m, `CONNECT answer: ${res.body}`);
      assert.notEqual(m[1], hs.sid, 'the Socket.IO id is not the Engine.IO sid');
    });

    it('EVENT round trip: 42["echo","x"] -> 42["echo","x"]', T, async () => {
      const c = await R.pollingConnect(base);
      assert.equal((await R.post(base, c.sid, '42["echo","x"]')).body, 'ok');
      const res = await R.poll(base, c.sid);
      assert.equal(res.body, '42["echo","x"]');
    });

    it('ack over polling: 421["echo","y"] -> 431["y"]', T, async () => {
      const c = await R.pollingConnect(base);
      await R.post(base, c.sid, '421["echo","y"]');
      assert.deepEqual(await R.pollUntil(base, c.sid, 1), ['431["y"]']);
    });

    it('a GET waits for data (long poll) and is answered as soon as a packet is queued', T, async () => {
      const c = await R.pollingConnect(base);
      const pending = R.startPoll(base, c.sid);
      assert.equal(await settledWithin(pending.promise, 300), 'pending');
      await R.post(base, c.sid, '42["echo","late"]');
      const res = await R.withTimeout(pending.promise, 2000, 'pending GET');
      assert.equal(res.body, '42["echo","late"]');
    });

    it('several packets in one POST (joined by \\x1e) are handled in order', T, async () => {
      const c = await R.pollingConnect(base);
      const payload = ['42["echo","a"]', '42["echo","b"]', '421["echo","c"]', '42["echo",1,{"k":[true,null]},-2.5]'];
      assert.equal((await R.post(base, c.sid, payload)).body, 'ok');
      assert.deepEqual(await R.pollUntil(base, c.sid, 4), [
        '42["echo","a"]', '42["echo","b"]', '431["c"]', '42["echo",1,{"k":[true,null]},-2.5]',
      ]);
    });

    it('buffered packets come back in one GET, joined by \\x1e', T, async () => {
      const c = await R.pollingConnect(base);
      await R.post(base, c.sid, ['42["echo","a"]', '42["echo","b"]', '42["echo","c"]']);
      await R.sleep(100); // let the server queue all three
      const res = await R.poll(base, c.sid);
      assert.equal(res.body, '42["echo","a"]\x1e42["echo","b"]\x1e42["echo","c"]');
    });

    it('UTF-8 text round-trips byte for byte', T, async () => {
      const c = await R.pollingConnect(base);
      const pkt = '42["echo","é😀\\u0000 \\"q\\" \\\\ ✓"]';
      await R.post(base, c.sid, pkt);
      const res = await R.poll(base, c.sid);
      assert.equal(res.body, pkt);
      assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(pkt));
    });

    it('binary event over polling: 451-[...] + b<base64> comes back as a binary event', T, async () => {
      const c = await R.pollingConnect(base);
      const header = '451-["echo",{"_placeholder":true,"num":0}]';
      assert.equal((await R.post(base, c.sid, [header, Buffer.from([1, 2, 3])])).body, 'ok');
      const got = await R.pollUntil(base, c.sid, 2);
      assert.deepEqual(got, [header, 'bAQID']);
      assert.deepEqual(R.decodePacket(got[1]).data, Buffer.from([1, 2, 3]));
    });

    it('binary ack with two attachments: 452-1[...] -> 462-1[...] + 2 attachments in order', T, async () => {
      const c = await R.pollingConnect(base);
      await R.post(base, c.sid, [
        '452-1["echo",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
        Buffer.from([1, 2, 3]), Buffer.from([255]),
      ]);
      assert.deepEqual(await R.pollUntil(base, c.sid, 3), [
        '462-1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', 'bAQID', 'b/w==',
      ]);
    });

    it('unknown namespace: 40/nope, -> 44/nope,{"message":"Invalid namespace"}', T, async () => {
      const hs = await R.handshake(base);
      await R.post(base, hs.sid, '40/nope,');
      assert.deepEqual(await R.pollUntil(base, hs.sid, 1), ['44/nope,{"message":"Invalid namespace"}']);
      // the session stays open: CONNECT to / still works
      await R.post(base, hs.sid, '40');
      const [connect] = await R.pollUntil(base, hs.sid, 1);
      assert.match(connect, CONNECT_RE);
    });

    it('a second concurrent GET -> 400 with an empty body; the first GET gets a close packet; the session is gone', T, async () => {
      const c = await R.pollingConnect(base);
      const first = R.startPoll(base, c.sid);
      await R.sleep(100);
      const second = await R.poll(base, c.sid);
      assert.equal(second.status, 400);
      assert.equal(second.body, '');
      await assertClosedWithPendingGet(c.sid, first, 'overlap');
    });

    it('a second concurrent POST -> 400 with an empty body; the session closes and the first POST is cut off', T, async () => {
      const c = await R.pollingConnect(base);
      const pending = R.startPoll(base, c.sid);
      await R.sleep(150); // let the GET reach the server
      // the first POST announces 100 bytes and sends 10, so it stays in progress
      const req = http.request(R.eioUrl(base, { sid: c.sid }), {
        method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-length': '100' },
      });
      const first = new Promise((resolve) => {
        req.on('response', (res) => {
          let body = '';
          res.on('data', (d) => { body += d; });
          res.on('end', () => resolve({ status: res.statusCode, body }));
          res.on('error', (error) => resolve({ error }));
        });
        req.on('error', (error) => resolve({ error }));
      });
      try {
        req.write('42["echo",');
        await R.sleep(200);
        const second = await R.post(base, c.sid, '42["echo","x"]');
        assert.equal(second.status, 400);
        assert.equal(second.body, '');
        await assertClosedWithPendingGet(c.sid, pending, 'POST overlap');
        const r = await R.withTimeout(first, 2000, 'the first POST to end');
        assert.ok(r.error, `the first POST's connection is destroyed, got ${JSON.stringify(r)}`);
      } finally {
        req.destroy();
      }
    });

    it('client close 1: POST ok, the pending GET gets a noop 6, the session is gone', T, async () => {
      const c = await R.pollingConnect(base);
      const pending = R.startPoll(base, c.sid);
      await R.sleep(100);
      const res = await R.post(base, c.sid, '1');
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
      const got = await pending.promise;
      assert.equal(got.status, 200);
      assert.equal(got.body, '6');
      R.assertEioError(await R.poll(base, c.sid), 1, 'GET after close');
      R.assertEioError(await R.post(base, c.sid, '42["echo","x"]'), 1, 'POST after close');
    });

    it('client close 1 without a pending GET: POST ok, then the sid is unknown', T, async () => {
      const c = await R.pollingConnect(base);
      assert.equal((await R.post(base, c.sid, '1')).body, 'ok');
      R.assertEioError(await R.poll(base, c.sid), 1, 'GET after close');
    });

    describe('invalid input closes the session (POST still answers ok, the pending GET gets 1)', () => {
      const cases = [
        ['an invalid Engine.IO packet "x"', 'x'],
        ['unknown Engine.IO packet type "9"', '9'],
        ['an empty body', ''],
        ['a ping from the client (wrong heartbeat direction)', '2'],
        ['a bad packet in the middle of a payload', '42["echo","a"]\x1e9\x1e42["echo","b"]'],
        ['Socket.IO: unknown packet type 49', '49'],
        ['Socket.IO: EVENT data that is not an array 42{"a":1}', '42{"a":1}'],
        ['Socket.IO: reserved event 42["disconnect"]', '42["disconnect"]'],
        ['Socket.IO: too many attachments 4511-', '4511-["echo"]'],
      ];
      for (const [name, body] of cases) {
        it(name, T, async () => {
          const c = await R.pollingConnect(base);
          const pending = R.startPoll(base, c.sid);
          await R.sleep(150); // let the GET reach the server
          const res = await R.post(base, c.sid, body);
          assert.equal(res.status, 200);
          assert.equal(res.body, 'ok');
          await assertClosedWithPendingGet(c.sid, pending, name);
        });
      }

      it('Socket.IO: a first packet that is not CONNECT (42["x"])', T, async () => {
        const hs = await R.handshake(base);
        const pending = R.startPoll(base, hs.sid);
        await R.sleep(150); // let the GET reach the server
        assert.equal((await R.post(base, hs.sid, '42["x"]')).body, 'ok');
        await assertClosedWithPendingGet(hs.sid, pending, 'EVENT before CONNECT');
      });

      it('POST with Content-Type application/octet-stream -> 400 empty body, session closed', T, async () => {
        const c = await R.pollingConnect(base);
        const pending = R.startPoll(base, c.sid);
        await R.sleep(150); // let the GET reach the server
        const res = await R.post(base, c.sid, '42["echo","x"]', { headers: { 'content-type': 'application/octet-stream' } });
        assert.equal(res.status, 400);
        assert.equal(res.body, '');
        await assertClosedWithPendingGet(c.sid, pending, 'octet-stream POST');
      });
    });
  });
}
