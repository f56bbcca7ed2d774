// Three sockio nodes behind HAProxy (from Debian) round robin, with
// request forwarding (no sticky sessions), connection-state recovery and
// the redis-streams adapter, with the official socket.io-client: the
// configuration of haproxy.cfg.tmpl (docs/balancers.md). Polling-only,
// websocket-only and upgrading clients chat across the nodes; a node that
// drains (SIGTERM) is taken out by HAProxy's /readyz check before its
// clients are handed off, and they recover on the others.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGo, connect, call, until, peersSeeing, purge } from "./lib.mjs";
import { haproxy, startHAProxy, spread, chat } from "./balancers.mjs";

const adapter = "redis-streams";

describe("three nodes behind HAProxy round robin, forwarding", { skip: !haproxy && "haproxy not installed" }, () => {
  const key = `sockio-haproxy-${process.pid}-${Date.now()}`;
  let nodes = [], lb;
  const clients = [];

  before(async () => {
    nodes = await Promise.all([0, 1, 2].map((i) => startGo({ key, adapter, name: `ha${i}`, forwarding: true, recovery: "30s", drainDelay: "5s" })));
    await peersSeeing(nodes);
    lb = await startHAProxy(nodes.map((n) => n.port));
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await purge({ key, adapter });
  });

  it("polling-only, websocket-only and upgrading clients on every node chat", async () => {
    const polling = await spread(lb.url, "poll", { transports: ["polling"] }, { keep: clients });
    const ws = await spread(lb.url, "ws", { transports: ["websocket"] }, { keep: clients });
    const upgrading = await spread(lb.url, "up", {}, { keep: clients });
    await until(() => upgrading.every((c) => c.io.engine.transport.name === "websocket"), 10000, "upgrades");
    await chat([...polling, ...ws, ...upgrading], "room");
    // Long polls come and go, each to the next node in the rotation.
    await new Promise((r) => setTimeout(r, 1500));
    await chat([...polling, ...ws, ...upgrading], "room");
    for (const c of polling) assert.equal(c.io.engine.transport.name, "polling");
  });

  it("a draining node gets no new clients, and its clients recover on the others", async (t) => {
    const opts = { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000 };
    const group = [
      ...await spread(lb.url, "dpoll", { ...opts, transports: ["polling"] }, { keep: clients }),
      ...await spread(lb.url, "dws", { ...opts, transports: ["websocket"] }, { keep: clients }),
    ];
    // A client recovers from the offset of the last event it got (as with
    // the reference): one that got none yet would come back as new.
    await chat(group, "drain-room");
    const drained = "ha0";
    const leaving = [];
    for (const c of group) {
      const who = await call(c, "whoami");
      if (who.node === drained) leaving.push({ c, id: who.id });
    }
    assert.equal(leaving.length, 2);
    const node = nodes[0];
    // Its HTTP server waits for the long polls it forwards for the others'
    // sessions (up to pingInterval, 25s) before it exits.
    const exited = node.stop(35000);
    // Within the drain delay (5s): /readyz fails, HAProxy's check (every
    // 500ms) takes the node out, its clients are still connected to it.
    await until(async () => (await fetch(`${node.url}/readyz`)).status === 503, 2000, "/readyz 503");
    await new Promise((r) => setTimeout(r, 1200));
    const fresh = [];
    for (let i = 0; i < 6; i++) {
      const c = await connect(lb.url, `new${i}`, { transports: [i % 2 ? "websocket" : "polling"] });
      clients.push(c);
      fresh.push((await call(c, "whoami")).node);
    }
    t.diagnostic(`new clients during the drain went to ${JSON.stringify(fresh)}`);
    // HAProxy's check saw it (the node itself would also pass a polling
    // handshake on, and refuse a websocket one with 503, which HAProxy
    // retries elsewhere).
    assert.match(lb.log(), /n0 is DOWN/, `HAProxy did not take the draining node out: ${lb.log()}`);
    assert.ok(!fresh.includes(drained), "a new client reached the draining node");
    for (const { c } of leaving) assert.equal(c.connected, true, "handed off before the drain delay");
    // Handed off: back elsewhere with their ids and rooms.
    let state = [];
    await until(async () => {
      state = [];
      for (const { c, id } of leaving) {
        state.push({ name: c.name, connected: c.connected, id });
        if (!c.connected) return false;
        const who = await call(c, "whoami");
        state.push(who);
        if (who.node === drained || who.id !== id || !who.recovered || !who.rooms.includes("drain-room")) return false;
      }
      return true;
    }, 15000, "the drained node's clients recovered elsewhere").catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(state)}`);
    });
    await chat(group, "drain-room");
    assert.deepEqual(await exited, { code: 0, signal: null }, `${drained} did not exit 0: ${node.logs.join("").slice(-2000)}`);
  });
});
