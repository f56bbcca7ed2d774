// Three sockio nodes behind nginx (from Debian), on the real brokers, with
// the official socket.io-client: polling-only, websocket-only and
// upgrading clients, on every node, connect and chat.
//
// - Round robin, with request forwarding between the nodes (no sticky
//   sessions, issue #14), for the redis, redis-streams and nats adapters:
//   each polling request and upgrade lands on any node, which passes it
//   to the session's own.
// - Sticky sessions (hash on the client address; clients bind 127.0.0.x
//   source addresses so the hash spreads them), without forwarding.
// - Round robin without forwarding: polling fails, as with the
//   reference; what forwarding fixes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGo, connect, call, next, until, peersSeeing, purge } from "./lib.mjs";
import { nginx, startNginx, spread, chat } from "./balancers.mjs";

const run = `${process.pid}-${Date.now()}`;

for (const adapter of ["redis", "redis-streams", "nats"]) {
  describe(`three nodes behind nginx round robin, forwarding, ${adapter}`, { skip: !nginx && "nginx not installed" }, () => {
    const key = `sockio-rr-${adapter}-${run}`;
    let nodes = [], lb;
    const clients = [];

    before(async () => {
      nodes = await Promise.all([0, 1, 2].map((i) => startGo({ key, adapter, name: `${adapter}${i}`, forwarding: true })));
      await peersSeeing(nodes);
      lb = await startNginx(nodes.map((n) => n.port), "");
    });

    after(async () => {
      for (const c of clients) c.disconnect();
      await lb?.stop();
      await Promise.all(nodes.map((n) => n.stop()));
      await purge({ key, adapter });
    });

    it("polling-only clients on every node chat, across polling cycles", async () => {
      const group = await spread(lb.url, "poll", { transports: ["polling"] }, { keep: clients });
      await chat(group, "poll-room");
      // Long polls come and go, each to the next node in the rotation.
      await new Promise((r) => setTimeout(r, 1500));
      await chat(group, "poll-room");
      for (const c of group) assert.equal(c.io.engine.transport.name, "polling");
    });

    it("websocket-only clients on every node chat", async () => {
      const group = await spread(lb.url, "ws", { transports: ["websocket"] }, { keep: clients });
      await chat(group, "ws-room");
    });

    it("upgrading clients (handshake and upgrade on any nodes) and a mix of transports chat together", async () => {
      const upgrading = await spread(lb.url, "up", {}, { keep: clients });
      await until(() => upgrading.every((c) => c.io.engine.transport.name === "websocket"), 10000, "upgrades");
      const polling = await spread(lb.url, "mix", { transports: ["polling"] }, { keep: clients });
      const ws = await spread(lb.url, "mixws", { transports: ["websocket"] }, { keep: clients });
      await chat([...upgrading, ...polling, ...ws], "mixed-room");
      // Still on their sessions (an upgrade that failed would have made a
      // client reconnect with a new id).
      for (const c of upgrading) assert.equal((await call(c, "whoami")).id, c.id);
    });
  });
}

describe("three nodes behind nginx, sticky sessions (no forwarding)", { skip: !nginx && "nginx not installed" }, () => {
  const key = `sockio-nginx-${run}`;
  let nodes = [], lb;
  const clients = [];

  before(async () => {
    nodes = await Promise.all([0, 1, 2].map((i) => startGo({ key, name: `go${i}` })));
    lb = await startNginx(nodes.map((n) => n.port), "hash $remote_addr consistent;");
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it("polling-only clients on every node chat, across polling cycles", async () => {
    const group = await spread(lb.url, "poll", { transports: ["polling"] }, { fromHost: 2, keep: clients });
    await chat(group, "poll-room");
    await new Promise((r) => setTimeout(r, 1500));
    await chat(group, "poll-room");
    for (const c of group) assert.equal(c.io.engine.transport.name, "polling");
  });

  it("websocket-only clients on every node chat", async () => {
    const group = await spread(lb.url, "ws", { transports: ["websocket"] }, { fromHost: 60, keep: clients });
    await chat(group, "ws-room");
  });

  it("upgrading clients and a mix of transports chat together", async () => {
    const upgrading = await spread(lb.url, "up", {}, { fromHost: 120, keep: clients });
    await until(() => upgrading.every((c) => c.io.engine.transport.name === "websocket"), 10000, "upgrades");
    const polling = await spread(lb.url, "mix", { transports: ["polling"] }, { fromHost: 180, keep: clients });
    await chat([...upgrading, ...polling], "mixed-room");
  });

  it("round robin without forwarding: polling fails (as with the reference)", async (t) => {
    const rr = await startNginx(nodes.map((n) => n.port), "");
    try {
      const failures = [];
      for (let i = 0; i < 3; i++) {
        try {
          const c = await connect(rr.url, `rr${i}`, { transports: ["polling"] });
          clients.push(c);
          // Connected by luck of the rotation: the next requests go elsewhere.
          await Promise.race([
            next(c, "disconnect", 8000).then(() => failures.push("disconnect")),
            call(c, "whoami").then(() => call(c, "whoami")).then(() => call(c, "whoami")),
          ]).catch((e) => failures.push(e.message));
        } catch (err) {
          failures.push(err.message);
        }
      }
      assert.ok(failures.length > 0, "polling through round robin never failed");
      t.diagnostic(`round robin failures: ${JSON.stringify(failures)}`);
    } finally {
      await rr.stop();
    }
  });
});
