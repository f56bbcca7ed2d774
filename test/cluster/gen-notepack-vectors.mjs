// Writes internal/notepack/testdata/vectors.json: values encoded and
// decoded by the real notepack.io (the codec of @socket.io/redis-adapter),
// with the JSON + attachments form socket.io-parser would send to a client.
// Run: node gen-notepack-vectors.mjs (from test/cluster, after npm ci).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
const require = createRequire(import.meta.url);
const notepack = require("notepack.io");

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

function jsonForm(v) {
  const atts = [];
  const json = JSON.stringify(deconstruct(v, atts));
  return { json, attachments: atts };
}

const big = "x".repeat(300);
const cases = {
  "null": null,
  "true": true,
  "false": false,
  "zero": 0,
  "neg zero": -0,
  "fixint": 127,
  "uint8": 200,
  "uint16": 65535,
  "uint32": 4294967295,
  "uint64": 4294967296,
  "max safe": Number.MAX_SAFE_INTEGER,
  "2^63": 2 ** 63,
  "neg fixint": -32,
  "int8": -100,
  "int16": -30000,
  "int32": -2147483648,
  "int64": -2147483649,
  "float": 1.5,
  "small float": 1e-7,
  "tiny float": 5e-324,
  "big float": 1e21,
  "big int float": 123456789012345680000,
  "neg float": -0.1,
  "pi": Math.PI,
  "nan": NaN,
  "infinity": Infinity,
  "empty string": "",
  "ascii": "hello",
  "str8": "a".repeat(40),
  "str16": big,
  "unicode": "héllo wörld ✓ 😀",
  "escapes": "quote\" backslash\\ nl\n tab\t ctl\u0001 sep\u2028 lt<",
  "empty array": [],
  "array16": Array.from({ length: 20 }, (_, i) => i),
  "empty object": {},
  "object order": { z: 1, a: 2, m: [true, null] },
  "map16": Object.fromEntries(Array.from({ length: 20 }, (_, i) => ["k" + i, i])),
  "undefined in object": { a: undefined, b: 1 },
  "undefined in array": [undefined, 1],
  "buffer": Buffer.from([1, 2, 3]),
  "empty buffer": Buffer.alloc(0),
  "bin16": Buffer.alloc(300, 7),
  "uint8array": new Uint8Array([4, 5, 6]),
  "arraybuffer": new Uint8Array([8, 9]).buffer,
  "nested binary": { file: Buffer.from("abc"), list: [Buffer.from([0]), "x", { deep: Buffer.from([255]) }] },
  "date": new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
  "date seconds": new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  "packet": { type: 2, data: ["chat message", "hi", { n: 1.25 }], nsp: "/" },
  "broadcast": ["abc123", { type: 2, data: ["ev", Buffer.from([1])], nsp: "/" }, { rooms: ["r1"], except: [], flags: { volatile: true } }],
};

const vectors = [];
for (const [name, value] of Object.entries(cases)) {
  const enc = notepack.encode(value);
  const dec = notepack.decode(enc);
  const roundtrip = !(value instanceof Date) && !Number.isNaN(value) && value !== Infinity;
  vectors.push({ name, hex: enc.toString("hex"), ...jsonForm(dec), roundtrip });
}

// Forms notepack.io 3 no longer writes but still reads (older peers).
const legacy = {
  "fixext1 undefined": "d40000",
  "undefined in array (legacy)": "92d4000001",
  "undefined in map (legacy)": "82a161d40000a16201",
  "ext8 arraybuffer": "c70300010203",
  "ext16 arraybuffer": "c800020001ff",
  "fixext8 legacy date": "d70000000180c5c7f1e8",
  "float32": "ca3fc00000",
  "str8 short": "d903616263",
  "array16 short": "dc000101",
  "map16 short": "de0001a1610c",
  "other ext": "d5050102",
  "timestamp96": "c70cff000000000000000065937d35",
  "int key map": "8101a178",
};
for (const [name, hex] of Object.entries(legacy)) {
  const dec = notepack.decode(Buffer.from(hex, "hex"));
  vectors.push({ name, hex, ...jsonForm(dec), roundtrip: false });
}

const out = new URL("../../internal/notepack/testdata/vectors.json", import.meta.url);
writeFileSync(out, JSON.stringify(vectors, null, 1) + "\n");
console.log("wrote", vectors.length, "vectors to", out.pathname);
