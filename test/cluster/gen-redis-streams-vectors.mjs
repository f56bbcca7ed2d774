// Writes adapter/redisstreams/testdata/node-vectors.json: what the real
// @socket.io/redis-streams-adapter writes to Redis, read back raw: stream
// entries (XRANGE fields, in order), Pub/Sub payloads and recovery
// sessions. adapter/redisstreams checks that it decodes each one and
// encodes it back byte for byte.
// Run: node gen-redis-streams-vectors.mjs (from test/cluster, after npm ci;
// REDIS=redis://host:port, default 127.0.0.1:6379).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { createClient } from "redis";
import { createAdapter } from "@socket.io/redis-streams-adapter";
const require = createRequire(import.meta.url);
// The codec the adapter itself uses for Pub/Sub and sessions.
const { encode } = require("@msgpack/msgpack");

const client = createClient({ url: process.env.REDIS || "redis://127.0.0.1:6379" });
await client.connect();
const tag = `vectors-${process.pid}-${Date.now()}`;
const streamName = `${tag}-stream`;
const sessionKeyPrefix = `${tag}:session:`;
const nsp = { name: "/chat", server: { opts: { connectionStateRecovery: { maxDisconnectionDuration: 60000 } } } };
const adapter = createAdapter(client, { streamName, sessionKeyPrefix })(nsp);

const uid = "a1b2c3";
const opts = { rooms: ["r1"], except: ["x"], flags: {} };
const messages = {
  "broadcast": { type: 3, data: { packet: { type: 2, data: ["hello", 1, 2.5, -3, { a: [true, null], b: "é\u2028\"" }], nsp: "/chat" }, opts } },
  "broadcast binary": { type: 3, data: { packet: { type: 5, data: ["bin", Buffer.from([1, 2, 3]), { nested: Buffer.alloc(0) }], nsp: "/chat" }, opts: { rooms: [], except: [], flags: { volatile: true } } } },
  "broadcast big numbers": { type: 3, data: { packet: { type: 2, data: ["n", 255, 65536, 4294967296, -129, -2147483649, 1e21, 0.1], nsp: "/chat" }, opts } },
  "sockets join": { type: 4, data: { opts, rooms: ["a", "b"] } },
  "sockets leave": { type: 5, data: { opts, rooms: ["a"] } },
  "disconnect sockets": { type: 6, data: { opts, close: true } },
  "no data": { type: 6 },
};
const entries = {};
for (const [name, m] of Object.entries(messages)) {
  const id = await adapter.doPublish({ ...m, uid, nsp: "/chat" });
  const [e] = await client.sendCommand(["XRANGE", streamName, id, id]);
  entries[name] = { id: e[0], fields: e[1] };
}

// Pub/Sub: the whole message as @msgpack/msgpack writes it, keys in the
// order ClusterAdapter sets them (type, data, then uid and nsp).
const pubsub = {
  "broadcast with ack": { type: 3, data: { packet: { type: 2, data: ["q", Buffer.from([9])], nsp: "/chat" }, opts, requestId: "req1" }, uid, nsp: "/chat" },
  "server side emit": { type: 9, data: { requestId: "r2", packet: ["ev", 1, { k: "v" }] }, uid, nsp: "/chat" },
  "fetch sockets": { type: 7, data: { opts, requestId: "r3" }, uid, nsp: "/chat" },
  "client count": { type: 11, data: { requestId: "r1", clientCount: 2 }, uid, nsp: "/chat" },
  "broadcast ack": { type: 12, data: { requestId: "r1", packet: "ok" }, uid, nsp: "/chat" },
  "fetch sockets response": { type: 8, data: { requestId: "r3", sockets: [{ id: "s1", handshake: {}, rooms: ["s1", "r1"], data: { n: 1 } }] }, uid, nsp: "/chat" },
};
const payloads = {};
for (const [name, m] of Object.entries(pubsub)) payloads[name] = Buffer.from(encode(m)).toString("hex");

// Sessions, through the adapter's own persistSession.
const session = { sid: "sid1234567890abcdefg", pid: "pid-vec-1", rooms: ["sid1234567890abcdefg", "r1"], data: { name: "ann", n: 3, list: [1, "x", null], ok: true } };
adapter.persistSession(session);
await new Promise((r) => setTimeout(r, 200));
const raw = await client.get(sessionKeyPrefix + session.pid);
const ttl = await client.pTTL(sessionKeyPrefix + session.pid);

const out = { generator: "test/cluster/gen-redis-streams-vectors.mjs", package: "@socket.io/redis-streams-adapter@0.3.1",
  entries, payloads, sessions: { "session": { session, raw, pxWithin60s: ttl > 0 && ttl <= 60000 } } };
writeFileSync(new URL("../../adapter/redisstreams/testdata/node-vectors.json", import.meta.url), JSON.stringify(out, null, 1) + "\n");
await client.del([streamName, sessionKeyPrefix + session.pid]);
adapter.close();
process.exit(0);
