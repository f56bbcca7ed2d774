// Three sockio nodes behind nginx (from Debian), on a real Redis:
// polling-only, websocket-only and upgrading clients, spread over the
// nodes by nginx's hash on the client address, connect and chat. Clients
// bind 127.0.0.x source addresses so the hash spreads them. A round-robin
// nginx shows why polling needs sticky sessions.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { startGo, connect, call, next, until, agentFrom, here } from "./lib.mjs";

function nginxBinary() {
  for (const p of [process.env.NGINX, "/usr/sbin/nginx", "/usr/bin/nginx"]) {
    if (!p) continue;
    try {
      execFileSync(p, ["-v"], { stdio: "ignore" });
      return p;
    } catch {}
  }
  return null;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

// startNginx runs nginx in the foreground with its own prefix directory.
async function startNginx(ports, balance) {
  const prefix = mkdtempSync(path.join(tmpdir(), "sockio-nginx-"));
  const port = await freePort();
  const conf = readFileSync(path.join(here, "nginx.conf.tmpl"), "utf8")
    .replaceAll("{{PREFIX}}", prefix)
    .replaceAll("{{LISTEN}}", `127.0.0.1:${port}`)
    .replaceAll("{{BALANCE}}", balance)
    .replaceAll("{{SERVERS}}", ports.map((p) => `server 127.0.0.1:${p};`).join("\n        "));
  writeFileSync(path.join(prefix, "nginx.conf"), conf);
  const proc = spawn(nginxBinary(), ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-e", path.join(prefix, "error.log")], { stdio: "inherit" });
  await until(() => new Promise((resolve, reject) => {
    if (proc.exitCode !== null) {
      reject(new Error(`nginx exited: ${readFileSync(path.join(prefix, "error.log"), "utf8")}`));
      return;
    }
    const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
    s.on("error", () => resolve(false));
  }), 10000, "nginx listening");
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGQUIT");
        const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await once(proc, "exit");
        clearTimeout(t);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

const nginx = nginxBinary();

describe("three sockio nodes behind nginx", { skip: !nginx && "nginx not installed" }, () => {
  const key = `sockio-nginx-${process.pid}-${Date.now()}`;
  let nodes = [], lb, clients = [];

  before(async () => {
    nodes = await Promise.all([0, 1, 2].map((i) => startGo({ key, name: `go${i}` })));
    lb = await startNginx(nodes.map((n) => n.port), "hash $remote_addr consistent;");
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  // spread connects clients of a transport from 127.0.0.x addresses until
  // every node has one (at most 40 addresses), and returns one per node.
  async function spread(label, opts, firstHost) {
    const byNode = new Map();
    for (let host = firstHost; host < firstHost + 40 && byNode.size < 3; host++) {
      const agent = agentFrom(`127.0.0.${host}`);
      const c = await connect(lb.url, `${label}${host}`, { ...opts, agent });
      clients.push(c);
      const { node } = await call(c, "whoami");
      if (byNode.has(node)) {
        c.disconnect();
        continue;
      }
      byNode.set(node, c);
    }
    assert.equal(byNode.size, 3, `clients reached only ${[...byNode.keys()]}`);
    return [...byNode.values()];
  }

  async function chat(group, room) {
    for (const c of group) c.emit("join", room);
    await until(async () => (await call(group[0], "fetchSockets", { rooms: [room] })).length === group.length, 10000, `${room} joined`);
    // Every member says something; everyone hears every message.
    for (const speaker of group) {
      const heard = Promise.all(group.map((c) => next(c, "chat message")));
      await call(speaker, "broadcast", { rooms: [room], event: "chat message", args: [`${speaker.name} says hi`] });
      for (const [msg] of await heard) assert.equal(msg, `${speaker.name} says hi`);
    }
  }

  it("polling-only clients on every node chat, across polling cycles", async () => {
    const group = await spread("poll", { transports: ["polling"] }, 2);
    await chat(group, "poll-room");
    // Long polls come and go for a while: each must reach its own node.
    await new Promise((r) => setTimeout(r, 1500));
    await chat(group, "poll-room");
    for (const c of group) assert.equal(c.io.engine.transport.name, "polling");
  });

  it("websocket-only clients on every node chat", async () => {
    const group = await spread("ws", { transports: ["websocket"] }, 60);
    await chat(group, "ws-room");
  });

  it("upgrading clients and a mix of transports chat together", async () => {
    const upgrading = await spread("up", {}, 120);
    await until(() => upgrading.every((c) => c.io.engine.transport.name === "websocket"), 10000, "upgrades");
    const polling = await spread("mix", { transports: ["polling"] }, 180);
    await chat([...upgrading, ...polling], "mixed-room");
  });

  it("without sticky sessions, polling fails (as with the reference)", async (t) => {
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
