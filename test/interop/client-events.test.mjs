// Events and acks carrying every kind of payload, JSON and binary, echoed by
// the server with an ack and, without an ack, as an "echo" event.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, ack, waitFor, normalize, sleep, collect,
} from './lib/client-helpers.mjs';

const T = { timeout: 15000 };

const bytes = (n, seed = 1) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};

// [name, args] — each list is sent as the event's arguments.
const jsonCases = [
  ['a string', ['hello']],
  ['an empty string', ['']],
  ['numbers', [0, -1, 1.5, 2 ** 53 - 1, -(2 ** 53 - 1), 3.141592653589793, 1e-7, 1e21, 123456789.125]],
  ['zero alone', [0]],
  ['booleans', [true, false]],
  ['null', [null]],
  ['null among values', [1, null, 'x']],
  ['a nested object', [{ a: 1, b: { c: [1, 2, { d: 'e' }], f: null, g: true }, h: [] , i: {} }]],
  ['nested arrays', [[[1, [2, [3, [4]]]], [], [[]]]]],
  ['unicode', ['héllo wörld', '😀🎉👍🏽', '中文字符', '日本語テキスト', 'mixed ✓ 😀 中 \u0000 \u2028 \u2029 \\ " \' \n\t']],
  ['keys in a chosen order', [{ z: 1, a: 2, m: 3, '😀': 4, '': 5 }]],
  ['an object that looks like a placeholder but has extra keys', [{ _placeholder: false, num: 0 }]],
  ['many arguments', Array.from({ length: 20 }, (_, i) => (i % 2 ? i : `s${i}`))],
  ['a long string (100 KB)', ['x'.repeat(100 * 1024)]],
];

const binaryCases = [
  ['a Buffer', [bytes(16)]],
  ['an empty Buffer', [Buffer.alloc(0)]],
  ['several Buffers', [bytes(3, 1), bytes(5, 2), bytes(7, 3)]],
  ['binary nested in objects and arrays', [{ a: bytes(4), b: [1, bytes(2, 9), { c: bytes(8, 7) }], d: 'text' }]],
  ['mixed binary and json arguments', ['before', bytes(10), 42, { k: [bytes(1), null] }, true, 'after']],
  ['binary with unicode text', [{ '😀': bytes(6, 5), 中: '文' }]],
];

for (const target of targets) {
  describe(`[${target}] events`, () => {
    let server;
    before(async () => { server = await startServer(target); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      for (const [what, args] of [...jsonCases, ...binaryCases]) {
        const isJson = jsonCases.some(([w]) => w === what);
        it(`${name} echo with ack: ${what}`, T, async () => {
          const sock = await connect(server.url, { transports });
          const res = await ack(sock, 'echo', args);
          assert.deepEqual(normalize(res), normalize(args));
          // deepEqual ignores key order; the server must keep it
          if (isJson) assert.equal(JSON.stringify(res), JSON.stringify(args), 'same JSON, same key order');
        });

        it(`${name} echo without ack comes back as "echo": ${what}`, T, async () => {
          const sock = await connect(server.url, { transports });
          const got = waitFor(sock, 'echo', 3000);
          sock.emit('echo', ...args);
          const res = await got;
          assert.deepEqual(normalize(res), normalize(args));
          if (isJson) assert.equal(JSON.stringify(res), JSON.stringify(args), 'same JSON, same key order');
        });
      }

      it(`${name} echo with no arguments, with and without ack`, T, async () => {
        const sock = await connect(server.url, { transports });
        assert.deepEqual(await ack(sock, 'echo', []), []);
        const got = waitFor(sock, 'echo', 3000);
        sock.emit('echo');
        assert.deepEqual(await got, []);
      });

      it(`${name} binary close to the size limit (700 KB, as base64 over polling < 1 MB)`, T, async () => {
        const sock = await connect(server.url, { transports });
        const big = bytes(700 * 1024, 3);
        const res = await ack(sock, 'echo', [big, { size: big.length }], 8000);
        assert.equal(res.length, 2);
        assert.ok(normalize(res[0]).equals(big), 'same bytes');
        assert.deepEqual(res[1], { size: big.length });
      });

      if (transports.length === 1 && transports[0] === 'websocket') {
        it(`${name} binary of 990 000 bytes (just below the default 1 MB limit)`, T, async () => {
          const sock = await connect(server.url, { transports });
          const big = bytes(990000, 4);
          const res = await ack(sock, 'echo', [big], 8000);
          assert.ok(normalize(res[0]).equals(big), 'same bytes');
        });
      }

      it(`${name} 100 mixed emits in a row keep their order`, T, async () => {
        const sock = await connect(server.url, { transports });
        const echoes = collect(sock, 'echo');
        const acks = [];
        const all = [];
        for (let i = 0; i < 100; i++) {
          const arg = i % 3 === 0 ? bytes(4, i) : { i };
          if (i % 2) all.push(ack(sock, 'echo', [i, arg]).then((r) => acks.push(normalize(r))));
          else sock.emit('echo', i, arg);
        }
        await Promise.all(all);
        for (let t = 0; t < 30 && echoes.length < 50; t++) await sleep(50);
        const expect = (odd) => Array.from({ length: 100 }, (_, i) => i)
          .filter((i) => (i % 2 === 1) === odd)
          .map((i) => [i, normalize(i % 3 === 0 ? bytes(4, i) : { i })]);
        assert.deepEqual(acks, expect(true));
        assert.deepEqual(echoes.map(normalize), expect(false));
      });
    }
  });
}
