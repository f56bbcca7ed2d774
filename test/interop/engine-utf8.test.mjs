// Text that is not UTF-8, on each transport, against sockio and the
// reference (issue #12). Over polling the reference reads the POST body as
// UTF-8 text (req.setEncoding("utf8")): each ill-formed sequence becomes
// U+FFFD and the packet goes on. Over websocket its ws library refuses a
// text frame that is not UTF-8 with close 1007. Either way, what reaches
// other clients is valid UTF-8.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };

// `42["to",{"event":"e","args":["a<ff>b<e2 82>c"]}]`: the contract's "to"
// event, whose server emits e("a<ff>b<e2 82>c") to every socket of "/".
const invalidRelay = Buffer.concat([
  Buffer.from('42["to",{"event":"e","args":["a'),
  Buffer.from([0xff]),
  Buffer.from('b'),
  Buffer.from([0xe2, 0x82]),
  Buffer.from('c"]}]'),
]);
const repaired = '42["e","a\uFFFDb\uFFFDc"]';

// rawPoll is a GET whose body is returned as bytes (fetch's text() would
// repair it and hide what the server sent).
async function rawPoll(base, sid) {
  const res = await fetch(R.eioUrl(base, { sid }), { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

// pollPacket returns the next packet of sid that is not a ping (answered)
// or a noop, as bytes.
async function pollPacket(base, sid) {
  for (;;) {
    const body = await rawPoll(base, sid);
    const rest = body.toString('latin1').split(R.SEP).filter((p) => p !== '6');
    if (rest.length === 1 && rest[0] === '2') { await R.post(base, sid, '3'); continue; }
    assert.equal(rest.length, 1, `one packet per poll: ${body.toString('latin1')}`);
    return Buffer.from(rest[0], 'latin1');
  }
}

function assertUTF8(bytes, want, label) {
  // A fatal decoder throws on anything that is not UTF-8.
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  assert.equal(text, want, label);
}

for (const target of targets) {
  describe(`invalid UTF-8 [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    it('over polling: replaced with U+FFFD, relayed as valid UTF-8 to websocket and polling clients', T, async () => {
      const listener = await R.wsConnect(base);
      const sender = await R.pollingConnect(base);
      const res = await R.request(R.eioUrl(base, { sid: sender.sid }), {
        method: 'POST', body: invalidRelay, headers: { 'content-type': 'text/plain;charset=UTF-8' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
      // The ws library would close with 1007 on invalid UTF-8 rather than
      // deliver it: a message here is valid text.
      assert.equal(await listener.ws.next(3000), repaired);
      assertUTF8(await pollPacket(base, sender.sid), repaired, 'the polling sender gets it too');
      await R.assertEchoWs(listener.ws);
    });

    it('over websocket: closed with 1007, nothing relayed', T, async () => {
      const listener = await R.wsConnect(base);
      const sender = await R.wsConnect(base);
      sender.ws.ws.send(invalidRelay, { binary: false }); // ws does not check what it sends
      await R.assertWsClosed(sender.ws, { code: 1007, label: 'invalid UTF-8 text frame' });
      // The next packet the listener gets is the next relay.
      const poller = await R.pollingConnect(base);
      await R.post(base, poller.sid, '42["to",{"event":"e","args":["after"]}]');
      assert.equal(await listener.ws.next(3000), '42["e","after"]');
    });
  });
}
