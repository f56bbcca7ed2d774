// maxHttpBufferSize: the limit on one POST body (polling) and on one
// websocket message, checked against the Node.js reference.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };
const LIMIT = 1000;

// An EVENT packet `42["echo","<prefix>xxx…"]` of exactly `bytes` UTF-8 bytes.
function echoOfBytes(bytes, prefix = '') {
  const head = `42["echo","${prefix}`;
  const tail = '"]';
  const n = bytes - Buffer.byteLength(head) - Buffer.byteLength(tail);
  const pkt = head + 'x'.repeat(n) + tail;
  assert.equal(Buffer.byteLength(pkt), bytes);
  return pkt;
}

for (const target of targets) {
  describe(`engine limits, maxHttpBufferSize ${LIMIT} [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target, { maxHttpBufferSize: LIMIT }); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    it('the open packet announces maxPayload = maxHttpBufferSize (polling and websocket)', T, async () => {
      assert.equal((await R.handshake(base)).open.maxPayload, LIMIT);
      assert.equal((await R.wsHandshake(base)).open.maxPayload, LIMIT);
    });

    describe('polling', () => {
      it(`a POST body of exactly ${LIMIT} bytes is accepted`, T, async () => {
        const c = await R.pollingConnect(base);
        const pkt = echoOfBytes(LIMIT);
        const res = await R.post(base, c.sid, pkt);
        assert.equal(res.status, 200);
        assert.equal(res.body, 'ok');
        assert.deepEqual(await R.pollUntil(base, c.sid, 1), [pkt]);
      });

      it('the limit counts UTF-8 bytes, not characters', T, async () => {
        const c = await R.pollingConnect(base);
        const ok = echoOfBytes(LIMIT, 'é'); // 999 characters, 1000 bytes
        assert.equal((await R.post(base, c.sid, ok)).status, 200);
        assert.deepEqual(await R.pollUntil(base, c.sid, 1), [ok]);
        const tooBig = echoOfBytes(LIMIT + 1, 'é'); // 1000 characters, 1001 bytes
        assert.equal((await R.post(base, c.sid, tooBig)).status, 413);
      });

      it(`a POST body of ${LIMIT + 1} bytes -> 413 with an empty body; the payload is dropped`, T, async () => {
        const c = await R.pollingConnect(base);
        const res = await R.post(base, c.sid, echoOfBytes(LIMIT + 1));
        assert.equal(res.status, 413);
        assert.equal(res.body, '');
      });

      // engine.io 6.6 answers 413 and drops that payload, but it does not
      // close the session: a pending GET stays pending and the next POST works.
      it('after a 413 the session stays open (reference behaviour)', T, async () => {
        const c = await R.pollingConnect(base);
        const pending = R.startPoll(base, c.sid);
        await R.sleep(50);
        assert.equal((await R.post(base, c.sid, echoOfBytes(5000))).status, 413);
        const early = await Promise.race([pending.promise, R.sleep(500).then(() => 'pending')]);
        assert.equal(early, 'pending', `the pending GET was answered: ${early.status} ${early.body}`);
        await R.post(base, c.sid, '42["echo","after"]');
        const res = await R.withTimeout(pending.promise, 2000, 'pending GET');
        assert.equal(res.body, '42["echo","after"]');
      });

      it('the limit applies to the encoded payload (base64 of attachments included)', T, async () => {
        const c = await R.pollingConnect(base);
        const header = '451-["echo",{"_placeholder":true,"num":0}]';
        const fits = R.encodePayload([header, Buffer.alloc(700, 7)]); // 980 bytes
        assert.ok(fits.length <= LIMIT);
        assert.equal((await R.post(base, c.sid, fits)).status, 200);
        assert.deepEqual(await R.pollUntil(base, c.sid, 2), fits.split(R.SEP));
        const over = R.encodePayload([header, Buffer.alloc(720, 7)]); // 1004 bytes, 720 raw
        assert.ok(over.length > LIMIT);
        assert.equal((await R.post(base, c.sid, over)).status, 413);
      });
    });

    describe('websocket', () => {
      it(`a text message of exactly ${LIMIT} bytes is accepted`, T, async () => {
        const { ws } = await R.wsConnect(base);
        const pkt = echoOfBytes(LIMIT, 'é');
        ws.send(pkt);
        assert.equal(await ws.next(), pkt);
      });

      it(`a text message of ${LIMIT + 1} bytes closes the connection with 1009`, T, async () => {
        const { ws } = await R.wsConnect(base);
        ws.send(echoOfBytes(LIMIT + 1));
        await R.assertWsClosed(ws, { code: 1009 });
        assert.deepEqual(ws.queue, [], 'nothing is answered');
      });

      it(`a binary message of ${LIMIT + 1} bytes closes the connection with 1009`, T, async () => {
        const { ws } = await R.wsConnect(base);
        ws.send('451-["echo",{"_placeholder":true,"num":0}]');
        ws.send(Buffer.alloc(LIMIT + 1));
        await R.assertWsClosed(ws, { code: 1009 });
      });

      it(`a binary message of ${LIMIT} bytes is accepted`, T, async () => {
        const { ws } = await R.wsConnect(base);
        const header = '451-["echo",{"_placeholder":true,"num":0}]';
        ws.send(header);
        ws.send(Buffer.alloc(LIMIT, 9));
        assert.equal(await ws.next(), header);
        assert.deepEqual(await ws.next(), Buffer.alloc(LIMIT, 9));
      });
    });
  });
}
