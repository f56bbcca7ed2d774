// Writes parser/testdata/msgpack-vectors.json: Socket.IO packets encoded
// by the real socket.io-msgpack-parser (notepack.io inside), with the form
// sockio keeps them in (JSON with placeholders + attachments, as
// socket.io-parser would deconstruct the same packet), and messages its
// Decoder rejects.
// Run: node gen-msgpack-vectors.mjs (from test/interop, after npm ci).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
const require = createRequire(import.meta.url);
const parser = require("socket.io-msgpack-parser");

// deconstruct mirrors socket.io-parser: binary becomes placeholders.
function deconstruct(v, atts) {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    atts.push(Buffer.from(v instanceof ArrayBuffer ? new Uint8Array(v) : v).toString("hex"));
    return { _placeholder: true, num: atts.length - 1 };
  }
  if (Array.isArray(v)) return v.map((x) => deconstruct(x, atts));
  if (v && typeof v === "object" && !(v instanceof Date)) {
    const out = {};
    for (const k of Object.keys(v)) out[k] = deconstruct(v[k], atts);
    return out;
  }
  return v;
}

const hex = (b) => Buffer.from(b).toString("hex");
const encode = (p) => {
  const out = new parser.Encoder().encode(p);
  if (out.length !== 1) throw new Error("one message expected");
  return hex(out[0]);
};

// Packets in sockio's key order {type, nsp, data, id}: sockio must encode
// them byte for byte as Node does, and decode them back.
const canonical = {
  "connect": { type: 0, nsp: "/" },
  "connect auth": { type: 0, nsp: "/admin", data: { token: "abc", n: 1 } },
  "connect answer": { type: 0, nsp: "/", data: { sid: "oSO0OpakMV_3jnilAAAA", pid: "p1" } },
  "disconnect": { type: 1, nsp: "/admin" },
  "event": { type: 2, nsp: "/", data: ["hello", 1, "wörld", true, null] },
  "event numbers": { type: 2, nsp: "/", data: ["n", 0, -1, 127, 128, -33, 65536, 4294967296, -2147483649, 1.5, -0.25, 2 ** 53, -(2 ** 40)] },
  // Not 1e300: notepack.io 2 writes integral numbers past 2^63 as garbage (uint64 0).,
  "event nested": { type: 2, nsp: "/", data: ["x", { a: [1, { b: "c" }], "é": {} }, []] },
  "event ack id": { type: 2, nsp: "/chat", data: ["project:delete", 123], id: 456 },
  "event big id": { type: 2, nsp: "/", data: ["e"], id: 70000 },
  "event number name": { type: 2, nsp: "/", data: [1, "a"] },
  "event long string": { type: 2, nsp: "/", data: ["s", "x".repeat(40), "y".repeat(300), "z".repeat(70000)] },
  "event binary": { type: 2, nsp: "/", data: ["bin", Buffer.from([1, 2, 3])] },
  "event binary nested": { type: 2, nsp: "/admin", data: ["bin", { a: Buffer.from([4]), b: [Buffer.alloc(0), Buffer.alloc(300, 7)] }], id: 9 },
  "event placeholder lookalike": { type: 2, nsp: "/", data: ["p", { _placeholder: true, num: 0 }] },
  "ack": { type: 3, nsp: "/", data: [], id: 0 },
  "ack values": { type: 3, nsp: "/admin", data: ["ok", { k: 1 }], id: 456 },
  "ack binary": { type: 3, nsp: "/", data: [Buffer.from([255, 0])], id: 1 },
  "connect error": { type: 4, nsp: "/", data: { message: "unauthorized", data: { reason: "bad token" } } },
  "connect error string": { type: 4, nsp: "/admin", data: "Invalid namespace" },
  "big map": { type: 2, nsp: "/", data: ["m", Object.fromEntries(Array.from({ length: 20 }, (_, i) => ["k" + i, i]))] },
  "big array": { type: 2, nsp: "/", data: ["a", Array.from({ length: 20 }, (_, i) => i)] },
};

// Packets as the reference sends them, in its own key orders, with the
// reference client's "options" key and undefined values: sockio decodes them.
const decodeOnly = {
  "server event order": { type: 2, data: ["hello", 1], nsp: "/" },
  "server ack order": { id: 5, type: 3, data: ["r"], nsp: "/" },
  "client emit": { type: 2, data: ["hello", "world"], options: { compress: true }, id: 3, nsp: "/" },
  "client connect undefined": { type: 0, data: undefined, nsp: "/" },
  "undefined id": { type: 2, nsp: "/", data: ["e"], id: undefined },
  "undefined in data": { type: 2, nsp: "/", data: ["e", undefined, { a: undefined, b: 1 }] },
  "arraybuffer": { type: 2, nsp: "/", data: ["ab", new Uint8Array([5, 6]).buffer] },
  "date": { type: 2, nsp: "/", data: ["d", new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6))] },
  "float type": { type: 2.0, nsp: "/", data: ["f"] },
};

// What the reference Decoder throws on (as hex of notepack's encoding).
const invalid = {
  "type 5": { type: 5, nsp: "/", data: ["e"] },
  "type -1": { type: -1, nsp: "/", data: ["e"] },
  "type string": { type: "2", nsp: "/", data: ["e"] },
  "type fraction": { type: 2.5, nsp: "/", data: ["e"] },
  "no type": { nsp: "/", data: ["e"] },
  "no nsp": { type: 2, data: ["e"] },
  "nsp number": { type: 2, nsp: 1, data: ["e"] },
  "connect array": { type: 0, nsp: "/", data: [] },
  "connect string": { type: 0, nsp: "/", data: "x" },
  "disconnect data": { type: 1, nsp: "/", data: {} },
  "connect error missing": { type: 4, nsp: "/" },
  "connect error number": { type: 4, nsp: "/", data: 1 },
  "event object": { type: 2, nsp: "/", data: { a: 1 } },
  "event missing": { type: 2, nsp: "/" },
  "ack string": { type: 3, nsp: "/", data: "x", id: 1 },
  "id string": { type: 2, nsp: "/", data: ["e"], id: "1" },
  "id fraction": { type: 2, nsp: "/", data: ["e"], id: 1.5 },
  "not a map": [2, "/", ["e"]],
  "a number": 2,
};

const out = { canonical: [], decodeOnly: [], invalid: [] };
const form = (p) => {
  const atts = [];
  const json = p.data === undefined ? null : JSON.stringify(deconstruct(p.data, atts));
  let type = p.type;
  if (atts.length > 0 && type === 2) type = 5;
  if (atts.length > 0 && type === 3) type = 6;
  return { type, nsp: p.nsp, id: p.id ?? null, json, attachments: atts };
};
for (const [name, p] of Object.entries(canonical)) {
  out.canonical.push({ name, hex: encode(p), ...form(p) });
  // Check the reference decodes it.
  const d = new parser.Decoder();
  d.on("decoded", () => {});
  d.add(Buffer.from(encode(p), "hex"));
}
for (const [name, p] of Object.entries(decodeOnly)) {
  const d = new parser.Decoder();
  d.on("decoded", () => {});
  d.add(Buffer.from(encode(p), "hex"));
  out.decodeOnly.push({ name, hex: encode(p), ...form(p) });
}
const notepack = require("notepack.io");
for (const [name, p] of Object.entries(invalid)) {
  const h = hex(notepack.encode(p));
  const d = new parser.Decoder();
  let threw = false;
  try { d.add(Buffer.from(h, "hex")); } catch { threw = true; }
  if (!threw) throw new Error("reference accepted " + name);
  out.invalid.push({ name, hex: h });
}
// Malformed MessagePack.
const valid = encode({ type: 2, nsp: "/", data: ["e"] });
for (const [name, h] of [["truncated", valid.slice(0, -2)], ["empty", ""], ["trailing", valid + "c0"], ["reserved byte", "c1"]]) {
  const d = new parser.Decoder();
  let threw = false;
  try { d.add(Buffer.from(h, "hex")); } catch { threw = true; }
  if (!threw) throw new Error("reference accepted " + name);
  out.invalid.push({ name, hex: h });
}
writeFileSync(new URL("../../parser/testdata/msgpack-vectors.json", import.meta.url), JSON.stringify(out, null, 1) + "\n");
console.log("wrote", out.canonical.length, out.decodeOnly.length, out.invalid.length);
