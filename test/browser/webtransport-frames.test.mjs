// The WebTransport stream framing of our browser client (web/client/client.js),
// in Node.js without a browser: the bytes engine.io-parser 5.2.3 writes
// (the vectors of engineio/packet/stream_test.go), frames split anywhere,
// random round trips, and random bytes, which may only end in the decoder's
// own errors. The browser cases against the server are in
// webtransport.test.mjs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { repo } from "./lib.mjs";

// The client is plain script code (see its header); its internals are
// reached by running it in a function that returns them.
const src = readFileSync(join(repo, "web", "client", "client.js"), "utf8");
const { StreamFrames, encodeStreamFrame } = new Function(`"use strict";\n${src}\nreturn { StreamFrames, encodeStreamFrame };`)();

const hex = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

// packet, frame length, hex of its first 12 bytes.
const vectors = [
  [{ type: "open" }, 2, "0130"],
  [{ type: "message", data: "hello" }, 7, "063468656c6c6f"],
  [{ type: "ping", data: "probe" }, 7, "063270726f6265"],
  [{ type: "message", data: new Uint8Array([1, 2, 3]) }, 4, "83010203"],
  [{ type: "message", data: "x".repeat(125) }, 129, "7e007e347878787878787878"],
  [{ type: "message", data: "é".repeat(100) }, 204, "7e00c934c3a9c3a9c3a9c3a9"],
  [{ type: "message", data: new Uint8Array(70000).fill(7) }, 70009, "ff0000000000011170070707"],
];

// plain turns a decoded packet into something deepEqual compares.
const plain = (p) => ({ type: p.type, data: p.data instanceof ArrayBuffer ? Array.from(new Uint8Array(p.data)) : p.data });
const want = (p) => ({ type: p.type, data: p.data instanceof Uint8Array ? Array.from(p.data) : p.data });

// feed decodes bytes given in chunks cut at the offsets cuts.
function feed(bytes, cuts) {
  const frames = new StreamFrames();
  const out = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    out.push(...frames.push(bytes.subarray(from, to)));
    from = to;
  }
  return out;
}

function concat(list) {
  const all = new Uint8Array(list.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of list) {
    all.set(b, off);
    off += b.length;
  }
  return all;
}

// A small deterministic generator: a failure names its seed.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function randomCuts(rand, len, n) {
  const cuts = new Set();
  for (let i = 0; i < n && len > 1; i++) cuts.add(1 + rand(len - 1));
  return [...cuts].sort((a, b) => a - b);
}

describe("WebTransport stream frames of our browser client", () => {
  it("encodes as engine.io-parser does", () => {
    for (const [p, n, head] of vectors) {
      const b = encodeStreamFrame(p);
      assert.equal(b.length, n, `length of ${p.type}`);
      assert.equal(hex(b.subarray(0, 12)), head, `head of ${p.type}`);
    }
  });

  it("decodes the vectors fed a byte at a time", () => {
    const all = concat(vectors.map(([p]) => encodeStreamFrame(p)));
    const cuts = Array.from({ length: all.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(feed(all, cuts).map(plain), vectors.map(([p]) => want(p)));
  });

  it("round trips random packets split at random places", () => {
    const types = ["message", "ping", "pong", "close", "upgrade", "noop"];
    const chars = ["a", "é", "€", "😀", "\x1e", "0"];
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const packets = [];
      for (let i = 0; i < 20; i++) {
        // Lengths around the 126 and 65536 boundaries as well as small.
        const len = [rand(130), 125 + rand(3), 65530 + rand(10), rand(70000)][rand(4)];
        if (rand(3) === 0) packets.push({ type: "message", data: new Uint8Array(len).map(() => rand(256)) });
        else packets.push({ type: types[rand(types.length)], data: Array.from({ length: len }, () => chars[rand(chars.length)]).join("") });
      }
      const all = concat(packets.map(encodeStreamFrame));
      const got = feed(all, randomCuts(rand, all.length, 50)).map(plain);
      assert.deepEqual(got, packets.map(want), `seed ${seed}`);
    }
  });

  it("refuses what no server sends, and waits for a cut frame", () => {
    assert.throws(() => feed(Uint8Array.of(0x00), []), /webtransport empty text frame/);
    assert.throws(() => feed(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), []), /webtransport frame too long/);
    assert.deepEqual(feed(Uint8Array.of(0x02, 0x39, 0x39), []), [{ type: "error", data: "parser error" }]);
    assert.deepEqual(feed(Uint8Array.of(0x03, 0x62, 0x21, 0x21), []), [{ type: "error", data: "parser error" }]);
    assert.deepEqual(feed(Uint8Array.of(0x05, 0x62, 0x41, 0x51, 0x49, 0x3d), []).map(plain), [{ type: "message", data: [1, 2] }]);
    assert.deepEqual(feed(Uint8Array.of(0x7e, 0x01), []), []);
    assert.deepEqual(feed(Uint8Array.of(0x05, 0x34, 0x61), []), []);
    // An empty binary message is written as text, since an empty frame is
    // refused; read as an empty binary frame too.
    assert.equal(hex(encodeStreamFrame({ type: "message", data: new Uint8Array(0) })), "0162");
    assert.deepEqual(feed(Uint8Array.of(0x01, 0x62), []).map(plain), [{ type: "message", data: [] }]);
    assert.deepEqual(feed(Uint8Array.of(0x80), []).map(plain), [{ type: "message", data: [] }]);
    // Invalid UTF-8 becomes U+FFFD, as the server reads it.
    assert.deepEqual(feed(Uint8Array.of(0x04, 0x34, 0x61, 0xff, 0x62), []), [{ type: "message", data: "a\uFFFDb" }]);
  });

  it("random bytes end only in the decoder's own errors", () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const rand = rng(seed);
      const bytes = new Uint8Array(1 + rand(64)).map(() => rand(256));
      try {
        feed(bytes, randomCuts(rand, bytes.length, 4));
      } catch (err) {
        assert.match(err.message, /^webtransport (empty text frame|frame too long)$/, `seed ${seed}`);
      }
    }
  });
});
