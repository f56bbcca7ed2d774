// No sticky sessions under load (issue #14): three sockio nodes behind
// nginx round robin, with request forwarding and connection-state
// recovery on a cluster adapter that keeps sessions (redis-streams; nats
// too), and many official socket.io-client clients (polling-only,
// websocket-only, upgrading) sending acknowledged room broadcasts at a
// bounded rate.
//
// - Rolling restart: every node in turn gets SIGTERM (drain, hand-off,
//   exit 0) and starts again on its port. No acknowledged message is
//   lost (each reached every member of its room, once), none is delivered
//   twice, every client recovers (same id, rooms kept) and is connected
//   at the end. Reports the time clients were without a connection.
// - SIGKILL: a node dies without a word. Its clients come back through
//   the other nodes with their state (recovered, same id, rooms) within
//   the recovery window; requests sent right after the kill
//   (fetchSockets, serverSideEmit with acks) end instead of hanging: with
//   the timeout error while the victim still counts as live (nats:
//   heartbeats; redis-streams: until Redis sees its connections close,
//   after which they succeed without it); no acknowledged message is lost.
//
// ROLLING_ADAPTERS (default "redis-streams,nats"), ROLLING_CLIENTS
// (default 200) and ROLLING_RATE (messages per second per client, default
// 2) tune the run.
//
// Every client also gets the events kept for recovery in the order of the
// cluster's log (its offset, the last event it got, must say what it has).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { startGo, connect, call, until, peersSeeing, purge } from "./lib.mjs";
import { nginx, startNginx } from "./balancers.mjs";

const ADAPTERS = (process.env.ROLLING_ADAPTERS || "redis-streams,nats").split(",").filter(Boolean);
const CLIENTS = Number(process.env.ROLLING_CLIENTS || 200);
const RATE = Number(process.env.ROLLING_RATE || 2);
const ROOM_SIZE = 5;
const RECOVERY = "30s";
const REQUESTS_TIMEOUT = 3000;
const KINDS = ["polling", "websocket", "upgrading"];
const run = `${process.pid}-${Date.now()}`;

const T0 = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// compareOffsets orders Redis stream ids ("ms-seq") and numbers (NATS).
function compareOffsets(a, b) {
  const pa = a.split("-").map(BigInt), pb = b.split("-").map(BigInt);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0n, y = pb[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

// Fleet is the clients of a run and what they saw.
class Fleet {
  constructor(url, label) {
    this.url = url;
    this.label = label;
    this.clients = [];
    this.acked = []; // {from, seq, room}
    this.pending = 0;
    this.unacked = 0;
    this.sending = false;
    this.errors = new Map(); // reconnection errors: count by message
  }

  // open connects n clients, kinds and rooms interleaved (every room has
  // every kind), 20 at a time, in a random order: the balancer's rotation
  // must not line kinds up with nodes.
  async open(n) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < n; i += 20) {
      await Promise.all(order.slice(i, i + 20).map((k) => this.one(k)));
    }
    this.clients.sort((a, b) => Number(a.name.slice(1)) - Number(b.name.slice(1)));
    await Promise.all(this.clients.map((c) => call(c.socket, "join", c.room)));
    for (const c of this.clients) Object.assign(c, await call(c.socket, "whoami"));
  }

  async one(i) {
    const kind = KINDS[i % KINDS.length];
    const transports = { polling: ["polling"], websocket: ["websocket"], upgrading: ["polling", "websocket"] }[kind];
    const socket = await connect(this.url, `c${i}`, {
      transports, reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 2000, timeout: 5000,
    });
    const c = {
      socket, kind, name: `c${i}`, room: `room${Math.floor(i / ROOM_SIZE)}`, firstId: socket.id,
      received: new Map(), log: new Map(), offsets: [], upTimes: [], seq: 0, sent: new Map(), downAt: null, reconnects: 0, gaps: [], notRecovered: [], reasons: [],
    };
    socket.io.on("reconnect_error", (err) => {
      const k = `${err.message}${err.description?.message ? ` (${err.description.message})` : ""}`;
      this.errors.set(k, (this.errors.get(k) || 0) + 1);
    });
    socket.on("disconnect", (reason) => {
      c.downAt = Date.now();
      c.reasons.push(`${reason}@${c.downAt - T0}`);
    });
    socket.on("connect", () => {
      if (c.downAt === null) return;
      c.gaps.push(Date.now() - c.downAt);
      c.ups = [...(c.ups || []), `${socket.recovered ? "recovered" : "new"}@${Date.now() - T0}`];
      c.upTimes.push(Date.now());
      c.downAt = null;
      c.reconnects++;
      if (!socket.recovered || socket.id !== c.firstId) c.notRecovered.push({ id: socket.id, recovered: socket.recovered });
    });
    // The client passes the recovery offset on as the last argument.
    socket.on("m", (msg, offset) => {
      const k = `${msg.f}:${msg.s}`;
      c.received.set(k, (c.received.get(k) || 0) + 1);
      const seen = { at: Date.now() - T0, offset, after: c.reconnects, transport: socket.io.engine?.transport?.name, n: c.offsets.length };
      c.offsets.push(offset);
      (c.log.get(k) || c.log.set(k, []).get(k)).push(seen);
    });
    this.clients.push(c);
  }

  // start makes every client send RATE acknowledged broadcasts per second
  // to its room, from a random phase.
  start() {
    this.sending = true;
    const period = 1000 / RATE;
    for (const c of this.clients) {
      const tick = () => {
        if (!this.sending) return;
        this.send(c);
        c.timer = setTimeout(tick, period);
      };
      c.timer = setTimeout(tick, Math.random() * period);
    }
  }

  send(c) {
    const seq = ++c.seq;
    this.pending++;
    c.sent.set(seq, { at: Date.now() - T0, connected: c.socket.connected });
    // Sent even while disconnected: the client buffers it until it is
    // back. Never retried: an unacknowledged message may or may not have
    // been delivered, but never twice.
    c.socket.timeout(10000).emit("broadcast", { rooms: [c.room], event: "m", args: [{ f: c.name, s: seq }] }, (err) => {
      this.pending--;
      if (err) this.unacked++;
      else this.acked.push({ from: c.name, seq, room: c.room, at: Date.now() - T0 });
    });
  }

  async stop() {
    this.sending = false;
    for (const c of this.clients) clearTimeout(c.timer);
    await until(() => this.pending === 0, 15000, "the last acknowledgements");
  }

  // problems lists acknowledged messages some member of their room did not
  // get exactly once, and messages anyone got twice or outside its room.
  problems() {
    const rooms = new Map();
    for (const c of this.clients) rooms.set(c.room, [...(rooms.get(c.room) || []), c]);
    const lost = [], doubled = [], strays = [];
    for (const m of this.acked) {
      for (const c of rooms.get(m.room)) {
        if (!c.received.has(`${m.from}:${m.seq}`)) {
          const sender = this.clients.find((x) => x.name === m.from);
          // The receiver's deliveries around the lost one, from the same sender.
          const near = [m.seq - 1, m.seq + 1].map((s) => c.log.get(`${m.from}:${s}`));
          lost.push(`${m.from}:${m.seq} -> ${c.name} (${c.kind}) ${JSON.stringify({ sent: sender.sent.get(m.seq), ackAt: m.at, near, receiver: { reasons: c.reasons, ups: c.ups }, sender: { kind: sender.kind, reasons: sender.reasons, ups: sender.ups } })}`);
        }
      }
    }
    const roomOf = new Map(this.clients.map((c) => [c.name, c.room]));
    for (const c of this.clients) {
      for (const [k, n] of c.received) {
        if (n > 1) {
          const [from, seq] = k.split(":");
          const sender = this.clients.find((x) => x.name === from);
          doubled.push(`${k} x${n} -> ${c.name} (${c.kind}) ${JSON.stringify({ got: c.log.get(k), receiver: { reasons: c.reasons, ups: c.ups }, sent: sender.sent.get(Number(seq)), sender: { kind: sender.kind, reasons: sender.reasons, ups: sender.ups } })}`);
        }
        if (roomOf.get(k.split(":")[0]) !== c.room) strays.push(`${k} -> ${c.name}`);
      }
    }
    return { lost, doubled, strays };
  }

  // settle waits until every acknowledged message arrived (or ms passed)
  // and asserts that none was lost, doubled or stray.
  async assertDelivered(ms = 15000) {
    await until(() => this.problems().lost.length === 0, ms, "every acknowledged message delivered").catch(() => {});
    const { lost, doubled, strays } = this.problems();
    if (process.env.ROLLING_DUMP) {
      // The whole picture, for a bug report: every problem, every client's
      // disconnections and reconnections.
      writeFileSync(process.env.ROLLING_DUMP.replace(/(\.json)?$/, `-${this.label}.json`), JSON.stringify({ lost, doubled, strays,
        clients: this.clients.map((c) => ({ name: c.name, kind: c.kind, room: c.room, reasons: c.reasons, ups: c.ups })) }, null, 1));
    }
    const counts = `acked ${this.acked.length}, unacked ${this.unacked}`;
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} deliveries of acknowledged messages lost (${counts})`);
    assert.deepEqual(doubled.slice(0, 20), [], `${doubled.length} messages delivered twice (${counts})`);
    assert.deepEqual(strays.slice(0, 20), [], `${strays.length} messages delivered outside their room`);
  }

  assertRecovered() {
    const bad = this.clients.filter((c) => c.notRecovered.length > 0);
    assert.deepEqual(bad.slice(0, 10).map((c) => ({ name: c.name, kind: c.kind, firstId: c.firstId, reasons: c.reasons, ups: c.ups, reconnects: c.notRecovered })), [],
      `${bad.length} clients reconnected without their session`);
  }

  async assertAllConnected(ms = 15000) {
    await until(() => this.clients.every((c) => c.socket.connected), ms, "every client connected").catch(() => {});
    const down = this.clients.filter((c) => !c.socket.connected);
    assert.deepEqual(down.slice(0, 10).map((c) => `${c.name} (${c.kind}): ${c.reasons.join(",")}`), [], `${down.length} clients not connected`);
  }

  // inversions counts events a client got after one with a later offset
  // in the log: recovery resumes after the last offset a client got, so
  // such an order makes it miss or repeat events.
  inversions() {
    let n = 0;
    const examples = [];
    for (const c of this.clients) {
      let max = null;
      c.offsets.forEach((o, i) => {
        if (typeof o !== "string") return;
        if (max !== null && compareOffsets(o, max) < 0) {
          n++;
          if (examples.length < 3) examples.push(`${c.name}: ${max} then ${o} (#${i})`);
        } else max = o;
      });
    }
    return { n, examples };
  }

  // spread counts the clients by node and kind.
  spread() {
    const out = {};
    for (const c of this.clients) {
      out[c.node] ??= {};
      out[c.node][c.kind] = (out[c.node][c.kind] || 0) + 1;
    }
    return out;
  }

  gaps() {
    const all = this.clients.flatMap((c) => c.gaps).sort((a, b) => a - b);
    return { n: all.length, p50: percentile(all, 0.5), p99: percentile(all, 0.99), max: all.at(-1) ?? 0 };
  }

  close() {
    this.sending = false;
    for (const c of this.clients) {
      clearTimeout(c.timer);
      c.socket.disconnect();
    }
  }
}

// nodeWarnings counts the nodes' warnings and errors (slog text lines)
// by message.
function nodeWarnings(nodes) {
  const counts = {};
  for (const n of nodes) {
    for (const line of n.logs.join("").split("\n")) {
      const m = /level=(WARN|ERROR) msg="?([^"]*)"?/.exec(line);
      if (!m) continue;
      const k = `${n.name}: ${m[1]} ${m[2]}`;
      counts[k] = (counts[k] || 0) + 1;
    }
  }
  return counts;
}

// deliveryCheck is the "nothing lost or doubled" subtest.
async function deliveryCheck(t, fleet) {
  await t.test("no acknowledged message lost, none delivered twice, all in log order", async () => {
    const inv = fleet.inversions();
    assert.equal(inv.n, 0, `events received out of log order: ${JSON.stringify(inv.examples)}`);
    await fleet.assertDelivered();
  });
}

// cluster starts three nodes with forwarding and recovery behind a
// round-robin nginx.
async function cluster(adapter, key) {
  const opts = (i, port = 0) => ({ key, adapter, name: `${adapter}${i}`, port, forwarding: true, recovery: RECOVERY, timeout: REQUESTS_TIMEOUT, drainDelay: "1s" });
  const nodes = await Promise.all([0, 1, 2].map((i) => startGo(opts(i))));
  await peersSeeing(nodes);
  const lb = await startNginx(nodes.map((n) => n.port), "");
  return { nodes, lb, opts, retired: [] };
}

for (const adapter of ADAPTERS) {
  describe(`rolling restart behind nginx round robin, ${adapter}`, { skip: !nginx && "nginx not installed" }, () => {
    const key = `sockio-rolling-${adapter}-${run}`;
    let c, fleet;

    before(async () => {
      c = await cluster(adapter, key);
      fleet = new Fleet(c.lb.url, `rolling-${adapter}`);
      await fleet.open(CLIENTS);
    });

    after(async () => {
      fleet?.close();
      await c?.lb.stop();
      await Promise.all((c?.nodes || []).map((n) => n.stop()));
      await purge({ key, adapter });
    });

    it(`${CLIENTS} clients, ${RATE} acked room broadcasts/s each, every node restarted in turn: nothing lost or doubled`, async (t) => {
      const started = Date.now();
      t.diagnostic(`clients per node and kind at start: ${JSON.stringify(fleet.spread())}`);
      fleet.start();
      await sleep(2000);
      const exits = [];
      for (let i = 0; i < c.nodes.length; i++) {
        const t0 = Date.now();
        const ended = await c.nodes[i].stop(20000);
        exits.push({ node: i, ...ended, ms: Date.now() - t0 });
        c.retired.push(c.nodes[i]);
        c.nodes[i] = await startGo(c.opts(i, c.nodes[i].port));
        await peersSeeing(c.nodes);
        await until(() => fleet.clients.every((x) => x.socket.connected), 20000, `clients back after node ${i} restarted`);
        await sleep(2000);
      }
      await fleet.stop();
      t.diagnostic(`node exits: ${JSON.stringify(exits)}`);
      t.diagnostic(`reconnection errors: ${JSON.stringify([...fleet.errors])}`);
      t.diagnostic(`nginx errors: ${JSON.stringify(c.lb.errors())}`);
      t.diagnostic(`node warnings: ${JSON.stringify(nodeWarnings([...c.retired, ...c.nodes]))}`);
      for (const e of exits) assert.deepEqual([e.code, e.signal], [0, null], `node ${e.node} did not exit 0 on SIGTERM`);
      await fleet.assertAllConnected();
      fleet.assertRecovered();
      const g = fleet.gaps();
      const deliveries = fleet.clients.reduce((s, x) => s + x.received.size, 0);
      t.diagnostic(`${adapter}: ${fleet.acked.length} messages acked (${fleet.unacked} not), ${deliveries} deliveries, ` +
        `${g.n} reconnections (all recovered); time without a connection: p50 ${g.p50} ms, p99 ${g.p99} ms, max ${g.max} ms; ` +
        `run ${Math.round((Date.now() - started) / 1000)} s`);
      // Every client's first node was restarted: the test exercised them all.
      const never = fleet.clients.filter((x) => x.reconnects === 0).map((x) => x.name);
      assert.deepEqual(never, [], "clients that never reconnected");
      assert.ok(fleet.acked.length > CLIENTS, "too few messages acknowledged for a meaningful run");
      await deliveryCheck(t, fleet);
    });
  });
}

for (const adapter of ADAPTERS) {
  describe(`SIGKILL under load behind nginx round robin, ${adapter}`, { skip: !nginx && "nginx not installed" }, () => {
    const key = `sockio-kill-${adapter}-${run}`;
    let c, fleet;

    before(async () => {
      c = await cluster(adapter, key);
      fleet = new Fleet(c.lb.url, `kill-${adapter}`);
      await fleet.open(60);
    });

    after(async () => {
      fleet?.close();
      await c?.lb.stop();
      await Promise.all((c?.nodes || []).map((n) => n.stop()));
      await purge({ key, adapter });
    });

    it("a killed node's clients recover on the others; requests waiting on it end", async (t) => {
      t.diagnostic(`clients per node and kind: ${JSON.stringify(fleet.spread())}`);
      fleet.start();
      // Past the live sessions' flush (1s): the store has every socket.
      await sleep(2500);
      const victim = `${adapter}1`;
      const victims = fleet.clients.filter((x) => x.node === victim);
      const requester = fleet.clients.find((x) => x.node !== victim && x.kind === "websocket" && x.socket.connected) ||
        fleet.clients.find((x) => x.node !== victim && x.socket.connected);
      assert.ok(victims.length > 0 && requester, "no client on the victim, or none elsewhere");
      const prior = new Map(victims.map((x) => [x.name, { id: x.socket.id, rooms: x.rooms }]));
      // Every node must count the others, the victim included, or the
      // requests below would not wait for it.
      const counts = {};
      for (const x of fleet.clients) counts[x.node] ??= await call(x.socket, "serverCount");
      t.diagnostic(`server count seen from each node before the kill: ${JSON.stringify(counts)}`);
      assert.deepEqual(Object.values(counts), [3, 3, 3], `a node does not count all three nodes: ${JSON.stringify(counts)}; ${JSON.stringify(nodeWarnings(c.nodes))}`);

      const killed = c.nodes[1].kill();
      const t0 = Date.now();
      const backAll = until(() => victims.every((x) => x.socket.connected && x.reconnects > 0), 30000, "the victim's clients back");
      // Sent while the victim is dead but still counted live (heartbeat
      // timeout 10s > requests timeout 3s): they wait on it, then fail.
      const [fetched, emitted] = await Promise.all([
        call(requester.socket, "fetchSockets", {}).then((r) => ({ r, ms: Date.now() - t0 })),
        call(requester.socket, "serverSideEmit", { event: "hello", withAck: true }).then((r) => ({ r, ms: Date.now() - t0 })),
      ]);
      await killed;
      const byNode = {};
      for (const s of Array.isArray(fetched.r) ? fetched.r : []) byNode[s.data?.node] = (byNode[s.data?.node] || 0) + 1;
      t.diagnostic(`fetchSockets: ${JSON.stringify(fetched.r.err ?? `no error, sockets by node ${JSON.stringify(byNode)}`)} after ${fetched.ms} ms; ` +
        `serverSideEmit: ${JSON.stringify(emitted.r.err)} (responses ${JSON.stringify(emitted.r.responses)}) after ${emitted.ms} ms; requester on ${requester.node}`);
      const warnings = () => JSON.stringify(nodeWarnings(c.nodes));
      const survivor = c.nodes.find((n, i) => i !== 1 && n.name !== requester.node).name;
      if (adapter === "redis-streams") {
        // The redis-streams adapter counts the nodes as the reference does
        // (PUBSUB NUMSUB, no heartbeats): the victim's Redis connections
        // closed with it, so a request sent once Redis noticed waits for
        // the survivors only and succeeds, one sent before times out.
        // Either way it ends, without anything from the victim.
        for (const [what, { r, ms }] of [["fetchSockets", fetched], ["serverSideEmit", emitted]]) {
          if (r.err) {
            assert.match(String(r.err), /time/i, `${what} failed with another error than the timeout; node warnings: ${warnings()}`);
            assert.ok(ms >= REQUESTS_TIMEOUT - 200 && ms < REQUESTS_TIMEOUT + 4000, `${what} timed out after ${ms} ms`);
          } else {
            assert.ok(ms < REQUESTS_TIMEOUT, `${what} succeeded after ${ms} ms`);
          }
        }
        if (!fetched.r.err) assert.deepEqual(Object.keys(byNode).sort(), [requester.node, survivor].sort(), "fetchSockets answered by other nodes than the live ones");
        if (!emitted.r.err) assert.deepEqual(emitted.r.responses, [`${survivor}:hello`]);
      } else {
        // With heartbeats, the victim counts as live for HeartbeatTimeout
        // (10s) > the requests timeout (3s): the requests wait for it and
        // fail with the timeout error.
        assert.match(String(fetched.r.err), /time/i, `fetchSockets did not fail with the timeout error; node warnings: ${warnings()}`);
        assert.match(String(emitted.r.err), /time/i, `serverSideEmit did not fail with the timeout error; node warnings: ${warnings()}`);
        for (const { ms } of [fetched, emitted]) assert.ok(ms >= REQUESTS_TIMEOUT - 200 && ms < REQUESTS_TIMEOUT + 4000, `request ended after ${ms} ms`);
      }

      // Within the recovery window, every client of the victim is back
      // elsewhere with its id and rooms.
      await backAll;
      t.diagnostic(`node warnings: ${JSON.stringify(nodeWarnings(c.nodes))}`);
      const back = Math.max(...victims.map((x) => x.upTimes.find((u) => u >= t0) - t0));
      for (const x of victims) {
        const who = await call(x.socket, "whoami");
        assert.notEqual(who.node, victim);
        assert.equal(x.socket.recovered, true, `${x.name} (${x.kind}) not recovered`);
        assert.equal(who.id, prior.get(x.name).id, `${x.name} changed id`);
        assert.deepEqual(who.rooms, prior.get(x.name).rooms, `${x.name} lost rooms`);
      }
      await sleep(2000);
      await fleet.stop();
      await fleet.assertAllConnected();
      fleet.assertRecovered();
      const g = fleet.gaps();
      t.diagnostic(`${adapter}: ${victims.length} clients of the killed node back in ${back} ms; ${fleet.acked.length} messages acked ` +
        `(${fleet.unacked} not); time without a connection: p50 ${g.p50} ms, p99 ${g.p99} ms, max ${g.max} ms`);
      await deliveryCheck(t, fleet);
    });
  });
}
