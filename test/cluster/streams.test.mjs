// A mixed cluster on Redis Streams: a Node.js node (socket.io +
// @socket.io/redis-streams-adapter 0.3, streams-server.mjs) and a sockio
// node (adapter/redisstreams, gostreams) on one Redis, one stream.
// Broadcasts (binary too), broadcasts with acks, fetchSockets,
// serverSideEmit with acks and the server count, both ways; and
// connection-state recovery across languages: a client of one node
// reconnects through the other and gets its id, rooms and missed events.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { once } from "node:events";
import path from "node:path";
import { createClient } from "redis";
import { here, REDIS, BIN, connect, call, next, none, until } from "./lib.mjs";

const KEY = `sockio-streams-${process.pid}-${Date.now()}`;
let go, node;

function start(cmd, args, env, name) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const logs = [];
  proc.stderr.on("data", (d) => logs.push(String(d)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} not ready: ${logs.join("")}`)), 20000);
    createInterface({ input: proc.stdout }).on("line", (line) => {
      const m = /^READY (\d+)$/.exec(line);
      if (m) { clearTimeout(t); resolve({ name, proc, logs, url: `http://127.0.0.1:${m[1]}` }); }
    });
    proc.on("exit", (code) => { clearTimeout(t); reject(new Error(`${name} exited ${code}: ${logs.join("")}`)); });
  });
}

async function stop(s) {
  if (!s || s.proc.exitCode !== null) return;
  s.proc.kill("SIGTERM");
  const t = setTimeout(() => s.proc.kill("SIGKILL"), 5000);
  await once(s.proc, "exit");
  clearTimeout(t);
}

before(async () => {
  [go, node] = await Promise.all([
    start(path.join(BIN, "gostreams"), [`-redis=${REDIS}`, `-key=${KEY}`, "-name=go"], {}, "go"),
    start(process.execPath, [path.join(here, "streams-server.mjs")], { REDIS, KEY, NAME: "node" }, "node"),
  ]);
  // Each counts both (NUMSUB of the namespace's channel, as the reference).
  const a = await connect(go.url, "probe-go");
  const b = await connect(node.url, "probe-node");
  await until(async () => (await call(a, "serverCount")) === 2 && (await call(b, "serverCount")) === 2, 10000, "server count 2");
  a.close();
  b.close();
});

after(async () => {
  await Promise.all([stop(go), stop(node)]);
  const c = createClient({ url: REDIS });
  await c.connect();
  const keys = await c.keys(`${KEY}*`);
  if (keys.length) await c.del(keys);
  await c.quit();
});

for (const [from, to] of [["go", "node"], ["node", "go"]]) {
  test(`broadcasts, acks and requests from ${from} to ${to}`, async () => {
    const srv = { go, node };
    const sender = await connect(srv[from].url, `sender-${from}`);
    const receiver = await connect(srv[to].url, `receiver-${to}`);
    try {
      await call(receiver, "join", "room1");
      const got = next(receiver, "hi");
      await call(sender, "broadcast", { rooms: ["room1"], event: "hi", args: ["text", { n: 1 }], binary: true });
      const args = await got;
      assert.deepEqual(args.slice(0, 2), ["text", { n: 1 }]);
      assert.deepEqual([...args[2]], [1, 2, 3]);
      const notHere = none(sender, "hi");
      await notHere;

      receiver.on("q", (ack) => ack(`${to}-answer`));
      const res = await call(sender, "broadcastWithAck", { rooms: ["room1"], event: "q", timeout: 3000 });
      assert.deepEqual(res, { err: null, responses: [`${to}-answer`] });

      const ids = await call(sender, "fetchSockets", { rooms: ["room1"] });
      assert.deepEqual(ids, [receiver.id]);

      const sse = await call(sender, "serverSideEmit", { event: "ping", args: [] });
      assert.deepEqual(sse, { err: null, responses: [`${to}:ping`] });
    } finally {
      sender.close();
      receiver.close();
    }
  });

  test(`recovery: a client of ${from} comes back through ${to}`, async () => {
    const srv = { go, node };
    const sock = await connect(srv[from].url, `roamer-${from}`, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
    try {
      await call(sock, "join", "r");
      const got = [];
      sock.on("m", (n) => got.push(n));
      const speaker = await connect(srv[to].url, `speaker-${to}`);
      await call(speaker, "broadcast", { rooms: ["r"], event: "m", args: [1] });
      await until(async () => got.length === 1, 5000, "first event");
      const id = sock.id;
      // The connection drops; the client stays away until the events are
      // sent, then comes back through the other node (the balancer moved).
      sock.io.reconnection(false);
      sock.emit("drop");
      await until(async () => !sock.connected, 5000, "drop");
      await call(speaker, "broadcast", { rooms: ["r"], event: "m", args: [2] });
      await call(speaker, "broadcast", { rooms: ["other"], event: "m", args: [-1] });
      await call(speaker, "broadcast", { rooms: [], event: "m", args: [3] });
      sock.io.uri = srv[to].url;
      const reconnected = once(sock, "connect");
      sock.connect();
      await reconnected;
      await until(async () => got.length >= 3, 5000, "missed events");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sock.recovered, true, "recovered");
      assert.equal(sock.id, id);
      assert.deepEqual(got, [1, 2, 3]);
      const who = await call(sock, "whoami");
      assert.equal(who.node, to);
      assert.equal(who.recovered, true);
      // Its room came back with it.
      assert.deepEqual(await call(speaker, "fetchSockets", { rooms: ["r"] }), [id]);
      speaker.close();
    } finally {
      sock.close();
    }
  });
}
