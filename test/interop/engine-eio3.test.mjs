// Engine.IO 3 / Socket.IO protocol 4 on the wire (what socket.io-client 2.x
// speaks), against servers started with --allow-eio3 1: the reference
// (socket.io 4.8 with allowEIO3) and sockio (Options.AllowEIO3) must send the
// same bytes. Covered: the handshake and the server's own CONNECT of "/",
// the heartbeat the client drives, length-prefixed text payloads (lengths in
// UTF-16 units), binary as "b4"+base64, the XHR2 binary payload both ways,
// JSONP polling, websocket frames with their type byte, the upgrade,
// namespaces with a query, socket ids, and connect errors.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';
import {
  url3, b64, enc3, dec3, encBin3, decBin3, req3, handshake3, poll3, post3, connect3, pollUntil3,
  jsonpForm, closeAll3,
} from './lib/raw3.mjs';

const T = { timeout: 20000 };
const PH = '{"_placeholder":true,"num":0}';

// The open packet the reference sends, for a session id.
const openPacket = (sid, { upgrades = ['websocket'], pingInterval = 25000, pingTimeout = 20000 } = {}) =>
  `0{"sid":"${sid}","upgrades":${JSON.stringify(upgrades)},"pingInterval":${pingInterval},"pingTimeout":${pingTimeout},"maxPayload":1000000}`;

async function closeAllRaw() {
  closeAll3();
  await R.closeAll();
}

for (const target of targets) {
  describe(`[${target}] Engine.IO 3 (allowEIO3)`, () => {
    let srv;
    let base;
    before(async () => {
      srv = await startServer(target, { allowEio3: 1 });
      base = srv.url;
    });
    after(async () => { await closeAllRaw(); await srv?.stop(); });
    afterEach(() => closeAllRaw());

    describe('handshake', () => {
      it('EIO=3: the open packet alone, length-prefixed; the next poll brings the server\'s CONNECT "2:40"', T, async () => {
        const hs = await handshake3(base, { query: { b64: '1', t: 'Nab1' } });
        assert.equal(hs.status, 200);
        assert.equal(hs.contentType, 'text/plain; charset=UTF-8');
        assert.match(hs.sid, /^[\w.-]{20,}$/);
        const open = openPacket(hs.sid);
        assert.equal(hs.body, `${open.length}:${open}`);
        const res = await poll3(base, hs.sid);
        assert.equal(res.status, 200);
        assert.equal(res.contentType, 'text/plain; charset=UTF-8');
        assert.equal(res.body, '2:40');
      });

      for (const [name, query] of [['EIO missing', { EIO: null }], ['EIO=5', { EIO: '5' }], ['EIO=3 without b64', {}]]) {
        it(`${name} is protocol 3 too`, T, async () => {
          const hs = await handshake3(base, { query });
          assert.equal(hs.status, 200, hs.body);
          const open = openPacket(hs.sid);
          assert.equal(hs.body, `${open.length}:${open}`);
          assert.equal((await poll3(base, hs.sid, { query: { EIO: query.EIO === undefined ? '3' : query.EIO } })).body, '2:40');
        });
      }

      it('a protocol 3 session polled with EIO=4 -> 400 code 3 "Bad request"', T, async () => {
        const { sid } = await connect3(base);
        const res = await R.poll(base, sid); // EIO=4
        R.assertEioError(res, 3, 'EIO=4 GET on an EIO=3 session');
      });

      it('an EIO=4 session is still protocol 4 next to protocol 3 ones', T, async () => {
        const { sid } = await connect3(base);
        const { id } = await R.pollingConnect(base);
        assert.match(id, /^[\w-]{20}$/);
        assert.notEqual(id, sid);
      });

      it('a websocket handshake with EIO=3: open packet without upgrades, then 40', T, async () => {
        const { ws, open, sid } = await R.wsHandshake(base, { query: { EIO: '3' } });
        assert.equal(JSON.stringify(open), openPacket(sid, { upgrades: [] }).slice(1));
        assert.equal(await ws.next(), '40');
      });
    });

    describe('polling payloads', () => {
      it('a ping 2 is answered 3; text lengths count UTF-16 units', T, async () => {
        const { sid } = await connect3(base);
        const ev = '42["echo","h\u00e9\ud83d\ude00",{"k":"\u2028"}]';
        assert.equal((await post3(base, sid, enc3('2', ev))).body, 'ok');
        const res = await poll3(base, sid);
        assert.equal(res.contentType, 'text/plain; charset=UTF-8');
        assert.equal(res.body, `1:3${ev.length}:${ev}`);
        assert.equal(ev.length, 27); // 😀 is two units
      });

      it('several packets in one POST and in one answer', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('42["echo","x",1]', '42["echo","y"]', '420["echo",{"a":1}]'));
        assert.equal((await poll3(base, sid)).body, '16:42["echo","x",1]14:42["echo","y"]12:430[{"a":1}]');
      });

      it('binary as b4+base64 both ways for a b64 client (event and ack)', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3(`451-["echo",${PH}]`, Buffer.from([1, 2, 3])));
        const res = await poll3(base, sid);
        assert.equal(res.contentType, 'text/plain; charset=UTF-8');
        assert.equal(res.body, `42:451-["echo",${PH}]6:b4AQID`);
        await post3(base, sid, enc3(`451-7["echo",${PH},"\u00e9"]`, Buffer.from([0, 255])));
        assert.deepEqual(await pollUntil3(base, sid, 2), [`461-7[${PH},"\u00e9"]`, 'b4AP8=']);
      });

      it('binary to a client without b64: the XHR2 binary payload (application/octet-stream)', T, async () => {
        const s2 = (await connect3(base, { query: {} })).sid;
        await post3(base, s2, enc3('40/dyn-2,'));
        assert.equal((await poll3(base, s2)).body, '9:40/dyn-2,');
        await post3(base, s2, enc3(`451-/dyn-2,["echo",${PH},"\u00e9"]`, Buffer.from([1, 2, 3])));
        const res = await poll3(base, s2);
        assert.equal(res.contentType, 'application/octet-stream');
        const text = `451-/dyn-2,["echo",${PH},"\u00e9"]`;
        assert.deepEqual(res.buf, encBin3(text, Buffer.from([1, 2, 3])));
        assert.deepEqual(decBin3(res.buf), [text, Buffer.from([4, 1, 2, 3])]);
        assert.equal(Buffer.byteLength(text), 54);
        // text only: the text payload again
        await post3(base, s2, enc3('42/dyn-2,["echo","t"]'));
        assert.equal((await poll3(base, s2)).body, '21:42/dyn-2,["echo","t"]');
      });

      it('a binary POST (application/octet-stream): ping, binary event, binary attachment', T, async () => {
        const { sid } = await connect3(base);
        const body = encBin3('2', `451-["echo",${PH},"\u00e9\ud83d\ude00"]`, Buffer.from([9, 8, 7]));
        assert.equal((await post3(base, sid, body, { contentType: 'application/octet-stream' })).body, 'ok');
        const ev = `451-["echo",${PH},"\u00e9\ud83d\ude00"]`;
        assert.deepEqual(await pollUntil3(base, sid, 3), ['3', ev, b64([9, 8, 7])]);
      });

      it('a record shorter than its length closes the session', T, async () => {
        const { sid } = await connect3(base);
        assert.equal((await post3(base, sid, '5:42[]')).status, 200);
        R.assertEioError(await poll3(base, sid), 1, 'after the parse error');
      });

      it('a length that is not a number closes the session', T, async () => {
        const { sid } = await connect3(base);
        const get = poll3(base, sid);
        await R.sleep(50);
        assert.equal((await post3(base, sid, 'x:2')).status, 200);
        assert.equal((await get).body, '1:1');
        R.assertEioError(await poll3(base, sid), 1, 'after the parse error');
      });

      it('a close packet 1 POSTed while a GET waits: the GET gets a noop, the session ends', T, async () => {
        const { sid } = await connect3(base);
        const get = poll3(base, sid);
        await R.sleep(100);
        assert.equal((await post3(base, sid, enc3('1'))).body, 'ok');
        assert.equal((await get).body, '1:6');
        R.assertEioError(await poll3(base, sid), 1, 'after the close');
      });
    });

    describe('Socket.IO protocol 4', () => {
      it('the socket id on "/" is the Engine.IO sid; elsewhere "<nsp>#<sid>"', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('421["rooms"]'));
        assert.deepEqual(await pollUntil3(base, sid, 1), [`431[["${sid}"]]`]);
        await post3(base, sid, enc3('422["observe"]', '40/admin?role=admin,'));
        assert.deepEqual(await pollUntil3(base, sid, 2), ['432[]', '40/admin,']);
        await post3(base, sid, enc3('41/admin,'));
        const [gone] = await pollUntil3(base, sid, 1);
        assert.equal(gone, `42["gone",{"id":"/admin#${sid}","nsp":"/admin","reason":"client namespace disconnect"}]`);
      });

      it('a namespace query is the auth; the answer has no payload', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('40/admin?role=admin&x=1,'));
        assert.deepEqual(await pollUntil3(base, sid, 1), ['40/admin,']);
        await post3(base, sid, enc3('42/admin,3["whoami"]', '42/admin?role=admin,4["echo","q"]'));
        assert.deepEqual(await pollUntil3(base, sid, 2), ['43/admin,3["/admin"]', '43/admin,4["q"]']);
      });

      it('a middleware error: the error\'s data, else its message as a string', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('40/admin?role=user,'));
        assert.deepEqual(await pollUntil3(base, sid, 1), ['44/admin,"forbidden"']);
        // a CONNECT payload is ignored: no query, no auth
        await post3(base, sid, enc3('40/admin,{"role":"admin"}'));
        assert.deepEqual(await pollUntil3(base, sid, 1), ['44/admin,"forbidden"']);
        const hs = await handshake3(base, { query: { b64: '1', token: 'bad' } });
        assert.equal((await poll3(base, hs.sid)).body, '24:44{"reason":"bad token"}');
      });

      it('an unknown namespace: {"message":"Invalid namespace"}, as to any client', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('40/nope?x=1,'));
        assert.equal((await poll3(base, sid)).body, '39:44/nope,{"message":"Invalid namespace"}');
      });

      it('a dynamic namespace with a repeated query key', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('40/dyn-9?a=1&a=2,'));
        assert.deepEqual(await pollUntil3(base, sid, 1), ['40/dyn-9,']);
        await post3(base, sid, enc3('42/dyn-9,5["whoami"]'));
        assert.deepEqual(await pollUntil3(base, sid, 1), ['43/dyn-9,5["/dyn-9"]']);
      });

      it('the server acks a question: 42<id>[...] answered by the client\'s 43<id>[...]', T, async () => {
        const { sid } = await connect3(base);
        await post3(base, sid, enc3('426["ask",{"payload":{"q":1},"timeout":3000}]'));
        const [question] = await pollUntil3(base, sid, 1);
        const m = /^42(\d+)\["question",\{"q":1\}\]$/.exec(question);
        assert.ok(m, question);
        await post3(base, sid, enc3(`43${m[1]}["yes"]`));
        const [answer] = await pollUntil3(base, sid, 1);
        assert.match(answer, /^436\[/);
        assert.deepEqual(JSON.parse(answer.slice(3)), [{ err: null, answer: 'yes' }]); // key order is the contract server's
      });
    });

    describe('JSONP polling (j)', () => {
      it('answers are ___eio[j]("<payload>"); POSTs are a form with d', T, async () => {
        const hs = await req3(url3(base, { j: '7', b64: '1' }));
        assert.equal(hs.status, 200);
        assert.equal(hs.contentType, 'text/plain; charset=UTF-8');
        const m = /^___eio\[7\]\((".*")\);$/.exec(hs.body);
        assert.ok(m, hs.body);
        const payload = JSON.parse(m[1]);
        const [open] = dec3(payload);
        const sid = JSON.parse(open.slice(1)).sid;
        assert.equal(open, openPacket(sid));
        assert.equal((await poll3(base, sid, { query: { j: '7' } })).body, '___eio[7]("2:40");');
        // a newline and the two characters \n, quotes, a control character and U+2028
        const ev = '42["echo","a\\nb","c\\\\n","\\"q\\"","\\u0001","\u2028"]';
        const form = jsonpForm(enc3(ev));
        const post = await req3(url3(base, { sid, j: '7' }), {
          method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(post.status, 200);
        assert.equal(post.body, 'ok');
        const res = await poll3(base, sid, { query: { j: '7' } });
        const want = `___eio[7](${JSON.stringify(enc3(ev)).replace(/\u2028/g, '\\u2028')});`;
        assert.equal(res.body, want);
      });

      it('the handshake\'s j keeps only its digits', T, async () => {
        const hs = await req3(url3(base, { j: 'a1b2', b64: '1' }));
        assert.match(hs.body, /^___eio\[12\]\("/);
      });
    });

    describe('websocket', () => {
      it('binary frames start with the type byte 4 both ways', T, async () => {
        const { ws } = await R.wsHandshake(base, { query: { EIO: '3' } });
        assert.equal(await ws.next(), '40');
        ws.send(`451-["echo",${PH}]`);
        ws.send(Buffer.from([4, 1, 2, 3]));
        assert.equal(await ws.next(), `451-["echo",${PH}]`);
        assert.deepEqual(await ws.next(), Buffer.from([4, 1, 2, 3]));
        // base64 text from the client is taken too
        ws.send(`451-1["echo",${PH}]`);
        ws.send('b4BQY=');
        assert.equal(await ws.next(), `461-1[${PH}]`);
        assert.deepEqual(await ws.next(), Buffer.from([4, 5, 6]));
      });

      it('b64=1: binary goes as "b4"+base64 text frames', T, async () => {
        const { ws } = await R.wsHandshake(base, { query: { EIO: '3', b64: '1' } });
        assert.equal(await ws.next(), '40');
        ws.send(`451-["echo",${PH}]`);
        ws.send(Buffer.from([4, 1, 2, 3]));
        assert.equal(await ws.next(), `451-["echo",${PH}]`);
        assert.equal(await ws.next(), 'b4AQID');
      });

      it('ping 2 -> pong 3; a websocket with EIO=4 for an EIO=3 session is refused', T, async () => {
        const { ws, sid } = await R.wsHandshake(base, { query: { EIO: '3' } });
        assert.equal(await ws.next(), '40');
        ws.send('2');
        assert.equal(await ws.next(), '3');
        ws.send('2probe');
        assert.equal(await ws.next(), '3');
        const r = await R.tryWs(base, { sid, query: { EIO: '4' } });
        assert.equal(r.status, 400);
        assert.equal(r.body, 'Bad request');
      });

      it('upgrade: 2probe -> 3probe, the waiting GET gets a noop, 5 switches; a later GET is refused', T, async () => {
        const { sid } = await connect3(base);
        const get = poll3(base, sid);
        await R.sleep(50);
        const ws = await R.openWs(base, { sid, query: { EIO: '3' } });
        ws.send('2probe');
        assert.equal(await ws.next(), '3probe');
        assert.equal((await get).body, '1:6');
        ws.send('5');
        ws.send('42["echo","up"]');
        assert.equal(await ws.next(), '42["echo","up"]');
        ws.send(`451-["echo",${PH}]`);
        ws.send(Buffer.from([4, 7]));
        assert.equal(await ws.next(), `451-["echo",${PH}]`);
        assert.deepEqual(await ws.next(), Buffer.from([4, 7]));
        R.assertEioError(await poll3(base, sid), 3, 'GET after the upgrade');
      });

      it('upgrade with b64=1 on the websocket: binary as text there', T, async () => {
        const { sid } = await connect3(base, { query: {} });
        const ws = await R.openWs(base, { sid, query: { EIO: '3', b64: '1' } });
        ws.send('2probe');
        assert.equal(await ws.next(), '3probe');
        ws.send('5');
        ws.send(`451-["echo",${PH}]`);
        ws.send('b4AQID');
        assert.equal(await ws.next(), `451-["echo",${PH}]`);
        assert.equal(await ws.next(), 'b4AQID');
      });
    });
  });

  describe(`[${target}] Engine.IO 3 heartbeat, pingInterval 300 pingTimeout 200`, () => {
    let srv;
    let base;
    before(async () => {
      srv = await startServer(target, { allowEio3: 1, pingInterval: 300, pingTimeout: 200 });
      base = srv.url;
    });
    after(async () => { await closeAllRaw(); await srv?.stop(); });
    afterEach(() => closeAllRaw());

    it('the open packet announces the timers; the server never pings', T, async () => {
      const hs = await handshake3(base, { query: { b64: '1' } });
      assert.equal(hs.body.slice(hs.body.indexOf(':') + 1), openPacket(hs.sid, { pingInterval: 300, pingTimeout: 200 }));
      assert.equal((await poll3(base, hs.sid)).body, '2:40');
      // pinging every 150 ms keeps the session well past pingInterval + pingTimeout
      const t0 = Date.now();
      while (Date.now() - t0 < 1500) {
        assert.equal((await post3(base, hs.sid, enc3('2'))).body, 'ok');
        assert.equal((await poll3(base, hs.sid)).body, '1:3');
        await R.sleep(150);
      }
      await post3(base, hs.sid, enc3('42["echo","alive"]'));
      assert.equal((await poll3(base, hs.sid)).body, '18:42["echo","alive"]');
    });

    it('no ping: the waiting GET gets a close packet after pingInterval + pingTimeout', T, async () => {
      const { sid } = await connect3(base);
      const t0 = Date.now();
      const res = await poll3(base, sid, { timeout: 5000 });
      const dt = Date.now() - t0;
      assert.equal(res.body, '1:1');
      assert.ok(dt >= 300, `closed after ${dt} ms, before pingInterval + pingTimeout`);
      R.assertEioError(await poll3(base, sid), 1, 'after the timeout');
    });

    it('a pong 3 from the client is the wrong direction: the session ends', T, async () => {
      const { sid } = await connect3(base);
      assert.equal((await post3(base, sid, enc3('3'))).body, 'ok');
      R.assertEioError(await poll3(base, sid), 1, 'after the pong');
    });

    it('websocket: pings keep it open; no ping closes it', T, async () => {
      const { ws } = await R.wsHandshake(base, { query: { EIO: '3' } });
      assert.equal(await ws.next(), '40');
      for (let i = 0; i < 6; i++) {
        await R.sleep(150);
        ws.send('2');
        assert.equal(await ws.next(), '3');
      }
      const t0 = Date.now();
      await R.assertWsClosed(ws, { timeout: 3000, label: 'no ping' });
      assert.ok(Date.now() - t0 >= 300, 'closed before pingInterval + pingTimeout');
    });
  });
}
