// A Node.js socket.io node (@socket.io/redis-adapter) and a sockio node
// (adapter/redis) in one cluster, on a real Redis: each side's
// broadcasts, requests and emitter reach the other side.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createClient } from "redis";
import { startGo, startNode, connect, call, next, none, until, goemit, REDIS } from "./lib.mjs";

const require = createRequire(import.meta.url);
const { Emitter } = require("@socket.io/redis-emitter");

const names = (list) => list.map((s) => s.name).sort();
const bytes = (b) => [...new Uint8Array(b)];

for (const sharded of [false, true]) {
  describe(`mixed cluster, ${sharded ? "sharded" : "classic"} mode`, () => {
    const key = `sockio-mixed-${sharded ? "sharded" : "classic"}-${process.pid}-${Date.now()}`;
    let goNode, jsNode, g1, g2, n1, n2, all, redis;

    before(async () => {
      [goNode, jsNode] = await Promise.all([startGo({ key, sharded }), startNode({ key, sharded })]);
      [g1, g2, n1, n2] = await Promise.all([
        connect(goNode.url, "g1"), connect(goNode.url, "g2"), connect(jsNode.url, "n1"), connect(jsNode.url, "n2"),
      ]);
      all = [g1, g2, n1, n2];
      await until(async () => (await call(g1, "serverCount")) === 2 && (await call(n1, "serverCount")) === 2, 10000, "both nodes to count 2");
      // g1 and n1 in "r"; g2 and n1 in "q".
      g1.emit("join", "r");
      n1.emit("join", "r");
      g2.emit("join", "q");
      n1.emit("join", "q");
      await until(async () => (await call(g1, "fetchSockets", { rooms: ["r"] })).length === 2 &&
        (await call(n2, "fetchSockets", { rooms: ["q"] })).length === 2, 10000, "rooms");
      redis = createClient({ url: REDIS });
      await redis.connect();
    });

    after(async () => {
      for (const s of all || []) s.disconnect();
      await redis?.quit();
      await Promise.all([goNode?.stop(), jsNode?.stop()]);
    });

    // The sharded adapter subscribes to a room's channel when the room
    // appears: retry a room broadcast until it gets through once.
    async function roomReady(from, room, member) {
      await until(async () => {
        const got = next(member, "probe", 300).then(() => true, () => false);
        await call(from, "broadcast", { rooms: [room], event: "probe" });
        return got;
      }, 10000, `room ${room} reachable from ${from.name}`);
    }

    it("Go broadcasts reach Node.js clients (room, binary, nested values)", async () => {
      await roomReady(g2, "r", n1);
      const got = Promise.all([next(g1, "news"), next(n1, "news")]);
      const silent = Promise.all([none(g2, "news"), none(n2, "news")]);
      await call(g2, "broadcast", { rooms: ["r"], event: "news", args: ["hi", { a: 1.5, b: [true, null, "é"] }, 42], binary: true });
      for (const [s, n, num, bin] of await got) {
        assert.equal(s, "hi");
        assert.deepEqual(n, { a: 1.5, b: [true, null, "é"] });
        assert.equal(num, 42);
        assert.deepEqual(bytes(bin), [1, 2, 3]);
      }
      await silent;
    });

    it("Node.js broadcasts reach Go clients (all, except, binary)", async () => {
      let got = Promise.all(all.map((s) => next(s, "everyone")));
      await call(n2, "broadcast", { event: "everyone", args: [{ deep: { list: [1, 2.25, "x"] } }], binary: true });
      for (const [obj, bin] of await got) {
        assert.deepEqual(obj, { deep: { list: [1, 2.25, "x"] } });
        assert.deepEqual(bytes(bin), [1, 2, 3]);
      }
      got = Promise.all([next(g2, "not-r"), next(n2, "not-r")]);
      const silent = Promise.all([none(g1, "not-r"), none(n1, "not-r")]);
      await call(n1, "broadcast", { except: ["r"], event: "not-r" });
      await got;
      await silent;
      await roomReady(n2, "q", g2);
      got = next(g2, "q-not-r");
      const quiet = none(n1, "q-not-r");
      await call(n2, "broadcast", { rooms: ["q"], except: ["r"], event: "q-not-r" });
      await got;
      await quiet;
    });

    it("broadcasts with acknowledgements gather every client, from either side", async () => {
      for (const from of [g1, n1]) {
        const res = await call(from, "broadcastWithAck", { event: "ask", timeout: 3000 });
        assert.equal(res.err, null);
        assert.deepEqual(res.responses, ["g1", "g2", "n1", "n2"]);
      }
      const res = await call(g2, "broadcastWithAck", { rooms: ["q"], event: "ask", timeout: 3000 });
      assert.deepEqual(res.responses, ["g2", "n1"]);
    });

    it("fetchSockets from either side sees every socket, with data and handshake", async () => {
      for (const from of [g1, n2]) {
        const socks = await call(from, "fetchSockets", {});
        assert.deepEqual(socks.map((s) => s.name), ["g1", "g2", "n1", "n2"]);
        for (const s of socks) {
          assert.equal(s.query, s.name);
          assert.deepEqual(s.data, { name: s.name, node: s.name[0] === "g" ? "go" : "node" });
          assert.ok(s.rooms.includes(s.id), `${s.name} rooms ${s.rooms}`);
        }
        assert.deepEqual(socks.find((s) => s.name === "n1").rooms.filter((r) => r.length < 20), ["q", "r"]);
        const inR = await call(from, "fetchSockets", { rooms: ["r"], except: ["q"] });
        assert.deepEqual(inR.map((s) => s.name), ["g1"]);
      }
    });

    it("socketsJoin and socketsLeave cross over", async () => {
      await call(n1, "socketsJoin", { rooms: ["r"], target: ["vip"] });
      await until(async () => (await call(g2, "fetchSockets", { rooms: ["vip"] })).length === 2, 5000, "vip from Node");
      await call(g1, "socketsLeave", { rooms: ["q"], target: ["vip"] });
      await until(async () => {
        const s = await call(n2, "fetchSockets", { rooms: ["vip"] });
        return s.length === 1 && s[0].name === "g1";
      }, 5000, "vip left from Go");
      await call(g2, "socketsJoin", { target: ["everyone"] });
      await until(async () => (await call(n2, "fetchSockets", { rooms: ["everyone"] })).length === 4, 5000, "everyone");
    });

    it("serverSideEmit, with and without acknowledgement, both ways", async () => {
      await call(g1, "serverSideEmit", { event: "hello", args: ["from go", 1] });
      await until(async () => JSON.stringify(await call(n1, "serverEvents")).includes('["hello","from go",1]'), 5000, "Node got hello");
      await call(n1, "serverSideEmit", { event: "from-node", args: [{ x: [1, 2] }] });
      await until(async () => JSON.stringify(await call(g1, "serverEvents")).includes('["from-node",{"x":[1,2]}]'), 5000, "Go got from-node");
      let res = await call(g2, "serverSideEmit", { event: "ping", args: [7], withAck: true });
      assert.deepEqual(res, { err: null, responses: ["node:ping"] });
      res = await call(n2, "serverSideEmit", { event: "ping", args: [8], withAck: true });
      assert.deepEqual(res, { err: null, responses: ["go:ping"] });
    });

    it("serverCount and allRooms agree", { skip: sharded && "the sharded protocol has no allRooms" }, async () => {
      assert.equal(await call(g1, "serverCount"), 2);
      assert.equal(await call(n1, "serverCount"), 2);
      const goRooms = await call(g1, "allRooms");
      const nodeRooms = await call(n1, "allRooms");
      assert.deepEqual(goRooms, nodeRooms);
      for (const r of ["q", "r", g1.id, g2.id, n1.id, n2.id]) assert.ok(goRooms.includes(r), r);
    });

    it("the Node.js emitter reaches Go clients", { skip: sharded && "@socket.io/redis-emitter publishes with PUBLISH only" }, async () => {
      const emitter = new Emitter(redis, { key });
      let got = Promise.all([next(g1, "from-emitter"), next(n1, "from-emitter")]);
      const silent = none(g2, "from-emitter");
      emitter.to("r").emit("from-emitter", "e", Buffer.from([4, 5]));
      for (const [s, bin] of await got) {
        assert.equal(s, "e");
        assert.deepEqual(bytes(bin), [4, 5]);
      }
      await silent;
      got = Promise.all(all.map((s) => next(s, "emitter-all")));
      emitter.emit("emitter-all", { n: 1 });
      await got;
      emitter.serverSideEmit("from-emitter", 9);
      await until(async () => JSON.stringify(await call(g1, "serverEvents")).includes('["from-emitter",9]'), 5000, "Go got the emitter's event");
      emitter.in("q").socketsJoin("emitted");
      await until(async () => (await call(g1, "fetchSockets", { rooms: ["emitted"] })).length === 2, 5000, "emitter socketsJoin");
      emitter.in("emitted").socketsLeave("emitted");
      await until(async () => (await call(n2, "fetchSockets", { rooms: ["emitted"] })).length === 0, 5000, "emitter socketsLeave");
    });

    it("the Go emitter reaches Node.js clients", async () => {
      const opts = { key, sharded };
      await until(async () => {
        const got = next(n1, "go-probe", 300).then(() => true, () => false);
        await goemit(opts, [{ op: "emit", rooms: ["r"], event: "go-probe" }]);
        return got;
      }, 10000, "Go emitter reaching room r");
      let got = Promise.all([next(n1, "from-go-emitter"), next(g1, "from-go-emitter")]);
      const silent = Promise.all([none(n2, "from-go-emitter"), none(g2, "from-go-emitter")]);
      await goemit(opts, [{ op: "emit", rooms: ["r"], event: "from-go-emitter", args: ["x", { k: [1.5] }], binary: true }]);
      for (const [s, o, bin] of await got) {
        assert.equal(s, "x");
        assert.deepEqual(o, { k: [1.5] });
        assert.deepEqual(bytes(bin), [1, 2, 3]);
      }
      await silent;
      got = Promise.all([next(n2, "go-except"), next(g2, "go-except")]);
      await goemit(opts, [{ op: "emit", except: ["r"], event: "go-except" }]);
      await got;
      await goemit(opts, [{ op: "serverSideEmit", event: "from-emitter", args: ["go", 3] }]);
      await until(async () => JSON.stringify(await call(n1, "serverEvents")).includes('["from-emitter","go",3]'), 5000, "Node got the Go emitter's event");
      await goemit(opts, [{ op: "socketsJoin", rooms: ["q"], target: ["go-emitted"] }]);
      await until(async () => (await call(n2, "fetchSockets", { rooms: ["go-emitted"] })).length === 2, 5000, "Go emitter socketsJoin");
      await goemit(opts, [{ op: "socketsLeave", rooms: ["go-emitted"], target: ["go-emitted"] }]);
      await until(async () => (await call(g2, "fetchSockets", { rooms: ["go-emitted"] })).length === 0, 5000, "Go emitter socketsLeave");
    });

    it("disconnectSockets crosses over (last: it ends the clients)", async () => {
      let gone = next(n2, "disconnect");
      await call(g1, "disconnectSockets", { rooms: [n2.id] });
      assert.equal((await gone)[0], "io server disconnect");
      gone = next(g2, "disconnect");
      await call(n1, "disconnectSockets", { rooms: [g2.id], close: true });
      const [reason] = await gone;
      assert.equal(reason, "io server disconnect");
      await until(async () => (await call(g1, "fetchSockets", {})).length === 2, 5000, "two sockets left");
    });
  });
}
