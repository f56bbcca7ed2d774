// Engine.IO v4 handshake and HTTP error answers, spoken on the wire
// (fetch + ws), checked against the Node.js reference (engine.io 6.6).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };
// Numbers unlike the defaults, so the open packet shows the flags are used.
const FLAGS = { pingInterval: 12345, pingTimeout: 6789, maxHttpBufferSize: 54321 };
const OPEN_KEYS = ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades'];

for (const target of targets) {
  describe(`engine handshake [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target, FLAGS); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    it('polling handshake: 200, text/plain; charset=UTF-8, a single open packet', T, async () => {
      const hs = await R.handshake(base);
      assert.equal(hs.status, 200, hs.body);
      assert.equal(hs.contentType, 'text/plain; charset=UTF-8');
      assert.equal(hs.headers.get('cache-control'), 'no-store');
      assert.equal(hs.packets.length, 1, `one packet expected: ${JSON.stringify(hs.body)}`);
      assert.match(hs.body, /^0\{/);
      assert.deepEqual(Object.keys(hs.open).sort(), OPEN_KEYS);
      assert.equal(typeof hs.open.sid, 'string');
      assert.ok(hs.open.sid.length > 0);
      assert.deepEqual(hs.open.upgrades, ['websocket']);
      assert.equal(hs.open.pingInterval, FLAGS.pingInterval);
      assert.equal(hs.open.pingTimeout, FLAGS.pingTimeout);
      assert.equal(hs.open.maxPayload, FLAGS.maxHttpBufferSize);
    });

    it('every handshake gets a new sid', T, async () => {
      const sids = new Set();
      for (let i = 0; i < 5; i++) sids.add((await R.handshake(base)).sid);
      assert.equal(sids.size, 5);
    });

    it('extra query parameters are accepted (t=, k=)', T, async () => {
      const hs = await R.handshake(base, { query: { t: 'Nxyz123', k: 'v' } });
      assert.equal(hs.status, 200, hs.body);
      assert.ok(hs.sid);
    });

    it('websocket handshake: the first message is the open packet with upgrades []', T, async () => {
      const { ws, open } = await R.wsHandshake(base);
      assert.deepEqual(Object.keys(open).sort(), OPEN_KEYS);
      assert.equal(typeof open.sid, 'string');
      assert.ok(open.sid.length > 0);
      assert.deepEqual(open.upgrades, []);
      assert.equal(open.pingInterval, FLAGS.pingInterval);
      assert.equal(open.pingTimeout, FLAGS.pingTimeout);
      assert.equal(open.maxPayload, FLAGS.maxHttpBufferSize);
      // nothing else is sent before the client speaks
      assert.equal(await ws.maybeNext(200), null);
      assert.ok(ws.isOpen);
    });

    describe('HTTP errors: 400 application/json {"code":N,"message":"..."}', () => {
      const cases = [
        ['EIO=3', { EIO: 3 }, 5],
        ['EIO missing', { EIO: null }, 5],
        ['EIO=5', { EIO: 5 }, 5],
        ['transport=foo', { transport: 'foo' }, 0],
        ['transport missing', { transport: null }, 0],
        ['transport=foo is checked before EIO', { EIO: 3, transport: 'foo' }, 0],
        ['transport=websocket on a plain GET handshake', { transport: 'websocket' }, 3],
        ['unknown sid', { sid: 'nope-not-a-session' }, 1],
      ];
      for (const [name, query, code] of cases) {
        it(`GET ${name} -> code ${code}`, T, async () => {
          R.assertEioError(await R.request(R.eioUrl(base, query)), code, name);
        });
      }

      it('POST with an unknown sid -> code 1 "Session ID unknown"', T, async () => {
        const res = await R.post(base, 'nope-not-a-session', '40');
        R.assertEioError(res, 1, 'POST unknown sid');
      });

      for (const method of ['POST', 'PUT', 'DELETE']) {
        it(`${method} without sid (a handshake must be a GET) -> code 2 "Bad handshake method"`, T, async () => {
          const res = await R.request(R.eioUrl(base), { method, body: method === 'DELETE' ? undefined : '40' });
          R.assertEioError(res, 2, method);
        });
      }

      it('GET with a known sid but transport=websocket (no upgrade) -> code 3 "Bad request"', T, async () => {
        const hs = await R.handshake(base);
        R.assertEioError(await R.request(R.eioUrl(base, { sid: hs.sid, transport: 'websocket' })), 3);
      });

      it('GET with a known sid but EIO=3 -> code 3 "Bad request"', T, async () => {
        const hs = await R.handshake(base);
        R.assertEioError(await R.request(R.eioUrl(base, { sid: hs.sid, EIO: 3 })), 3);
      });

      it('polling GET and POST with the sid of a websocket session -> code 3 "Bad request"; the session survives', T, async () => {
        const { ws, sid } = await R.wsHandshake(base);
        R.assertEioError(await R.poll(base, sid), 3, 'GET');
        R.assertEioError(await R.post(base, sid, '40'), 3, 'POST');
        ws.send('40');
        assert.match(await ws.next(), /^40\{"sid":"[^"]+"\}$/);
      });

      it('PUT with a known sid -> 500 with an empty body; the session stays open', T, async () => {
        const hs = await R.handshake(base);
        const res = await R.request(R.eioUrl(base, { sid: hs.sid }), { method: 'PUT', body: '40' });
        assert.equal(res.status, 500);
        assert.equal(res.body, '');
        // the PUT body was not read as packets, the session still works
        assert.equal((await R.post(base, hs.sid, '40')).status, 200);
        const [connect] = await R.pollUntil(base, hs.sid, 1);
        assert.match(connect, /^40\{"sid":"[^"]+"\}$/);
      });
    });

    describe('websocket upgrade errors', () => {
      it('unknown sid -> HTTP 400 text/html "Session ID unknown", no websocket', T, async () => {
        const r = await R.tryWs(base, { sid: 'nope-not-a-session' });
        assert.equal(r.ws, undefined, 'the websocket must not open');
        assert.equal(r.status, 400);
        assert.equal(r.headers['content-type'], 'text/html');
        assert.equal(r.body, 'Session ID unknown');
      });

      it('transport=foo -> HTTP 400 text/html "Transport unknown", no websocket', T, async () => {
        const r = await R.tryWs(base, { query: { transport: 'foo' } });
        assert.equal(r.ws, undefined, 'the websocket must not open');
        assert.equal(r.status, 400);
        assert.equal(r.headers['content-type'], 'text/html');
        assert.equal(r.body, 'Transport unknown');
      });

      // The reference (engine.io 6.6) completes the upgrade (101) before it
      // checks the protocol version, then writes its HTTP 400 onto the
      // upgraded socket and destroys it: the client sees the websocket open
      // and then fail (1006) without an open packet. What matters, and what
      // is asserted: no session, no open packet, the connection ends.
      for (const [name, query] of [['EIO=3', { EIO: 3 }], ['EIO missing', { EIO: null }]]) {
        it(`${name} -> no Engine.IO session over websocket`, T, async () => {
          const r = await R.tryWs(base, { query });
          if (r.ws) {
            const msg = await r.ws.maybeNext(1000);
            assert.equal(msg, null, `no open packet expected, got ${msg}`);
            await r.ws.waitClose(2000);
          } else {
            assert.ok(r.error || r.status >= 400, `unexpected answer ${JSON.stringify(r)}`);
          }
        });
      }
    });
  });
}
