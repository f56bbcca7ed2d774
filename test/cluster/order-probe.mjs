// A diagnostic, not part of run.sh: do clients get a node's recoverable
// broadcasts in the order of the cluster's log? Connection-state recovery
// resumes after the last offset a client got, so an event delivered after
// one with a later offset is replayed again (doubled) or, when the later
// one came first, skipped (lost) at the next recovery. No restarts here:
// N nodes (default 3), 60 websocket clients in rooms of 5, each sending a
// room broadcast every 500 ms for 8 s.
//   CLUSTER_BIN=.bin node order-probe.mjs redis-streams|nats [N]
import { startGo, connect, call, peersSeeing, purge } from "./lib.mjs";
const adapter = process.argv[2] || "redis-streams";
const nnodes = Number(process.argv[3] || 3);
const key = `sockio-probe-${process.pid}`;
const nodes = await Promise.all(Array.from({ length: nnodes }, (_, i) => startGo({ key, adapter, name: `p${i}`, recovery: "30s" })));
const clients = [];
for (let i = 0; i < 60; i++) {
  const s = await connect(nodes[i % nnodes].url, `c${i}`, { transports: ["websocket"] });
  s.offsets = [];
  s.on("m", (_m, off) => s.offsets.push(off));
  clients.push(s);
  await call(s, "join", `r${Math.floor(i / 5)}`);
}
const cmp = (a, b) => { const pa = a.split("-").map(BigInt), pb = b.split("-").map(BigInt); for (let i = 0; i < 2; i++) { const x = pa[i] ?? 0n, y = pb[i] ?? 0n; if (x !== y) return x < y ? -1 : 1; } return 0; };
const timers = clients.map((s, i) => setInterval(() => s.emit("broadcast", { rooms: [`r${Math.floor(i / 5)}`], event: "m", args: [{ f: i }] }, () => {}), 500));
await new Promise((r) => setTimeout(r, 8000));
timers.forEach(clearInterval);
await new Promise((r) => setTimeout(r, 1000));
let inv = 0, total = 0, ex = [];
for (const s of clients) { let max = null; for (const o of s.offsets) { total++; if (max && cmp(o, max) < 0) { inv++; if (ex.length < 3) ex.push(`${max} then ${o}`); } else max = o; } }
console.log(`${adapter} nodes=${nnodes}: ${inv} of ${total} events out of log order`, ex);
clients.forEach((s) => s.disconnect());
await Promise.all(nodes.map((n) => n.stop()));
await purge({ key, adapter });
process.exit(0);
