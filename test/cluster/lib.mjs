// Helpers of the cluster tests: start Go and Node.js nodes, connect
// clients, wait with bounds.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";
import http from "node:http";
import { io } from "socket.io-client";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const REDIS = process.env.REDIS || "redis://127.0.0.1:6379";
export const NATS = process.env.NATS || "nats://127.0.0.1:4222";
export const BIN = process.env.CLUSTER_BIN || path.join(here, ".bin");

const procs = new Set();
process.on("exit", () => {
  for (const p of procs) p.kill("SIGKILL");
});

// spawnReady starts a server and resolves with its port once it prints
// "READY <port>" (within 20 s).
function spawnReady(cmd, args, env, name) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  procs.add(proc);
  const logs = [];
  proc.stderr.on("data", (d) => logs.push(String(d)));
  const lines = createInterface({ input: proc.stdout });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in 20s: ${logs.join("")}`)), 20000);
    lines.on("line", (line) => {
      const m = /^READY (\d+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}): ${logs.join("")}`));
    });
  });
  return ready.then((port) => ({
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    proc,
    // stop sends SIGTERM (SIGKILL after ms) and resolves with how the
    // process ended: {code, signal}.
    async stop(ms = 5000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), ms);
        await once(proc, "exit");
        clearTimeout(t);
      }
      procs.delete(proc);
      return { code: proc.exitCode, signal: proc.signalCode };
    },
    // kill sends SIGKILL and waits for the process to be gone.
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = once(proc, "exit");
        proc.kill("SIGKILL");
        await gone;
      }
      procs.delete(proc);
    },
  }));
}

// startGo starts a goserver node. adapter: redis (default), redis-sharded,
// redis-streams or nats; forwarding: request forwarding between nodes (no
// sticky sessions); recovery: connection-state recovery window ("30s").
export function startGo({ key, sharded = false, name = "go", port = 0, timeout = 5000, adapter, forwarding = false, recovery, drainDelay }) {
  const args = [`-port=${port}`, `-redis=${REDIS}`, `-nats=${NATS}`, `-key=${key}`, `-name=${name}`, `-timeout=${timeout}`];
  if (sharded) args.push("-sharded");
  if (adapter) args.push(`-adapter=${adapter}`);
  if (forwarding) args.push("-forwarding");
  if (recovery) args.push(`-recovery=${recovery}`);
  if (drainDelay) args.push(`-drain-delay=${drainDelay}`);
  return spawnReady(path.join(BIN, "goserver"), args, {}, name);
}

// purge deletes what goserver nodes of adapter left under key in the
// shared brokers (streams, session keys), bounded by 15 s.
export async function purge({ key, adapter }) {
  const proc = spawn(path.join(BIN, "goserver"), ["-purge", `-adapter=${adapter}`, `-redis=${REDIS}`, `-nats=${NATS}`, `-key=${key}`], { stdio: ["ignore", "inherit", "inherit"] });
  const t = setTimeout(() => proc.kill("SIGKILL"), 15000);
  await once(proc, "exit");
  clearTimeout(t);
}

// peersSeeing waits until every node's directory lists the n-1 others.
export async function peersSeeing(nodes, ms = 10000) {
  await until(async () => {
    for (const n of nodes) {
      const live = await (await fetch(`${n.url}/peers`)).json();
      if (live.length !== nodes.length - 1) return false;
    }
    return true;
  }, ms, "every node seeing its peers");
}

export function startNode({ key, sharded = false, name = "node", port = 0, timeout = 5000 }) {
  return spawnReady(process.execPath, [path.join(here, "server.mjs")], {
    PORT: String(port), REDIS, KEY: key, NAME: name, SHARDED: sharded ? "1" : "", REQUESTS_TIMEOUT: String(timeout),
  }, name);
}

// goemit runs Go emitter operations and waits for it to exit.
export async function goemit({ key, sharded = false }, ops) {
  const args = [`-redis=${REDIS}`, `-key=${key}`];
  if (sharded) args.push("-sharded");
  args.push(JSON.stringify(ops));
  const proc = spawn(path.join(BIN, "goemit"), args, { stdio: ["ignore", "inherit", "inherit"] });
  const t = setTimeout(() => proc.kill("SIGKILL"), 15000);
  const [code] = await once(proc, "exit");
  clearTimeout(t);
  if (code !== 0) throw new Error(`goemit exited ${code}`);
}

// connect opens a client named name (in auth, query and a header) and
// waits for it to connect; it acknowledges "ask" with its name.
export async function connect(url, name, opts = {}) {
  const socket = io(url, {
    auth: { name },
    query: { name },
    extraHeaders: { "x-client-name": name },
    forceNew: true,
    reconnection: false,
    timeout: 5000,
    ...opts,
  });
  socket.on("ask", (ack) => ack(name));
  socket.name = name;
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name}: no connect in 5s`)), 5000);
    socket.once("connect", () => { clearTimeout(t); resolve(); });
    socket.once("connect_error", (err) => { clearTimeout(t); reject(err); });
  });
  return socket;
}

// call emits event with an acknowledgement, bounded by 10 s.
export function call(socket, event, ...args) {
  return socket.timeout(10000).emitWithAck(event, ...args);
}

// next resolves with the arguments of the next event of that name.
export function next(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { socket.off(event, on); reject(new Error(`${socket.name}: no "${event}" in ${ms}ms`)); }, ms);
    const on = (...args) => { clearTimeout(t); resolve(args); };
    socket.once(event, on);
  });
}

// none checks that no event of that name comes within ms.
export function none(socket, event, ms = 300) {
  return new Promise((resolve, reject) => {
    const on = (...args) => { clearTimeout(t); reject(new Error(`${socket.name}: unexpected "${event}" ${JSON.stringify(args)}`)); };
    const t = setTimeout(() => { socket.off(event, on); resolve(); }, ms);
    socket.once(event, on);
  });
}

// until retries check (an async function returning true when done) every
// 50 ms, for at most ms.
export async function until(check, ms = 10000, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

// agentFrom returns an HTTP agent whose connections come from a given
// local address (127.0.0.x), so an address hash spreads test clients.
export function agentFrom(localAddress) {
  return new http.Agent({ keepAlive: true, localAddress });
}
