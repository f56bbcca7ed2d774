// Load balancers in front of the test nodes (nginx and HAProxy from
// Debian, each in the foreground with its own temp directory), and the
// checks the balancer tests share: spread clients over the nodes, chat.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { connect, call, next, until, agentFrom, here } from "./lib.mjs";

function binary(candidates, versionFlag) {
  for (const p of candidates) {
    if (!p) continue;
    try {
      execFileSync(p, [versionFlag], { stdio: "ignore" });
      return p;
    } catch {}
  }
  return null;
}

export const nginx = binary([process.env.NGINX, "/usr/sbin/nginx", "/usr/bin/nginx"], "-v");
export const haproxy = binary([process.env.HAPROXY, "/usr/sbin/haproxy", "/usr/bin/haproxy"], "-v");

export async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// run starts a balancer process and waits until it accepts connections.
async function run(cmd, args, port, prefix, what, logFile) {
  const logs = [];
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.on("data", (d) => logs.push(String(d)));
  proc.stderr.on("data", (d) => logs.push(String(d)));
  const log = () => logs.join("") + (logFile && existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  await until(() => new Promise((resolve, reject) => {
    if (proc.exitCode !== null) {
      reject(new Error(`${what} exited: ${log()}`));
      return;
    }
    const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
    s.on("error", () => resolve(false));
  }), 10000, `${what} listening`);
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    // errors counts the balancer's log lines by their gist (nginx's error
    // log: the message and the upstream, without times and ids).
    errors() {
      const counts = {};
      for (const line of log().split("\n")) {
        const m = /\[(?:error|warn|alert|crit)\] \d+#\d+: \*?\d* ?([^,]*)(?:.*upstream: "([^"]*?)(?:\/socket\.io.*)?")?/.exec(line);
        if (!m) continue;
        const k = `${m[1]}${m[2] ? ` (${m[2]})` : ""}`;
        counts[k] = (counts[k] || 0) + 1;
      }
      return counts;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = once(proc, "exit");
        proc.kill("SIGQUIT");
        const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await gone;
        clearTimeout(t);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

// startNginx runs nginx.conf.tmpl over ports with balance ("" is round
// robin; "hash $remote_addr consistent;" sticky).
export async function startNginx(ports, balance) {
  const prefix = mkdtempSync(path.join(tmpdir(), "sockio-nginx-"));
  const port = await freePort();
  const conf = readFileSync(path.join(here, "nginx.conf.tmpl"), "utf8")
    .replaceAll("{{PREFIX}}", prefix)
    .replaceAll("{{LISTEN}}", `127.0.0.1:${port}`)
    .replaceAll("{{BALANCE}}", balance)
    .replaceAll("{{SERVERS}}", ports.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join("\n        "));
  writeFileSync(path.join(prefix, "nginx.conf"), conf);
  const errorLog = path.join(prefix, "error.log");
  return run(nginx, ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-e", errorLog], port, prefix, "nginx", errorLog);
}

// startHAProxy runs haproxy.cfg.tmpl (round robin, /readyz checks) over
// ports.
export async function startHAProxy(ports) {
  const prefix = mkdtempSync(path.join(tmpdir(), "sockio-haproxy-"));
  const port = await freePort();
  const conf = readFileSync(path.join(here, "haproxy.cfg.tmpl"), "utf8")
    .replaceAll("{{LISTEN}}", `127.0.0.1:${port}`)
    .replaceAll("{{SERVERS}}", ports.map((p, i) => `server n${i} 127.0.0.1:${p} check`).join("\n    "));
  const file = path.join(prefix, "haproxy.cfg");
  writeFileSync(file, conf);
  // -db: foreground, logs on stderr; -W would fork a master.
  return run(haproxy, ["-db", "-f", file], port, prefix, "haproxy");
}

// spread connects clients (opts: their transports) through url until
// every one of the nodes named has one (at most 40 tries), and returns one
// per node. With fromHost, each client comes from its own 127.0.0.x
// address, for an address hash.
export async function spread(url, label, opts, { nodes = 3, fromHost, keep } = {}) {
  const byNode = new Map();
  for (let i = 0; i < 40 && byNode.size < nodes; i++) {
    const host = fromHost === undefined ? undefined : fromHost + i;
    const extra = host === undefined ? {} : { agent: agentFrom(`127.0.0.${host}`) };
    const c = await connect(url, `${label}${host ?? i}`, { ...opts, ...extra });
    keep?.push(c);
    const { node } = await call(c, "whoami");
    if (byNode.has(node)) {
      c.disconnect();
      continue;
    }
    byNode.set(node, c);
  }
  assert.equal(byNode.size, nodes, `clients reached only ${[...byNode.keys()]}`);
  return [...byNode.values()];
}

// chat makes group join room, and every member say something that every
// member hears.
export async function chat(group, room) {
  await Promise.all(group.map((c) => call(c, "join", room)));
  await until(async () => (await call(group[0], "fetchSockets", { rooms: [room] })).length === group.length, 10000, `${room} joined`);
  for (const speaker of group) {
    const heard = Promise.all(group.map((c) => next(c, "chat message")));
    await call(speaker, "broadcast", { rooms: [room], event: "chat message", args: [`${speaker.name} says hi`] });
    for (const [msg] of await heard) assert.equal(msg, `${speaker.name} says hi`);
  }
}
