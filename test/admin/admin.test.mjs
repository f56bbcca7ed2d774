// The official Socket.IO Admin UI (@socket.io/admin-ui 0.5.1 from npm, its
// bundled ui/dist served here as static files, another origin than the
// server) in Chromium against `sockio serve --admin`: log in, see the
// sockets and rooms of connected clients, disconnect one from the UI and
// see it gone. Screenshots go to artifacts/ (copied to docs/images/ by hand).
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { io } from "socket.io-client";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const artifacts = join(here, "artifacts");
const dist = join(here, "node_modules/@socket.io/admin-ui/ui/dist");
const mdi = join(here, "node_modules/@mdi/font");
// bcrypt of "s3cret" (cost 4: a test, not a deployment).
const HASH = "$2a$04$.QksLjiT/vfELqMyt6pQVez0bL6gfzvartugwaUTg.A86FStTVafC";
const PASSWORD = "secret";

function sockioBinary() {
  const path = join(here, "bin", "sockio");
  if (!existsSync(path)) {
    mkdirSync(join(here, "bin"), { recursive: true });
    execFileSync("go", ["build", "-o", path, "./cmd/sockio"], { cwd: repo, stdio: "inherit", timeout: 240_000 });
  }
  return path;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((ok, fail) => srv.listen(0, "127.0.0.1", ok).on("error", fail));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// startSockio runs `sockio serve` and resolves once it serves; its output
// is piped (never inherited), so a killed test leaves no pipe open.
function startSockio(port, extra) {
  const child = spawn(sockioBinary(), ["serve", "--addr", `127.0.0.1:${port}`, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise((ok) => child.once("exit", ok));
  const ready = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("sockio not ready:\n" + output)), 10_000);
    const onData = (c) => {
      output += c;
      if (/sockio chat serving/.test(output)) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => fail(new Error(`sockio exited (${code}):\n${output}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    if ((await Promise.race([exited, sleep(5000).then(() => "late")])) === "late") child.kill("SIGKILL");
  };
  return { ready, stop, output: () => output };
}

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf" };

// staticServer serves the UI's dist (the way an operator would host it).
async function staticServer(root) {
  const srv = http.createServer(async (req, res) => {
    let p = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (p.endsWith("/")) p += "index.html";
    try {
      const body = await readFile(join(root, p));
      res.setHeader("content-type", types[extname(p)] || "application/octet-stream");
      res.end(body);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((ok) => srv.listen(0, "127.0.0.1", ok));
  return srv;
}

async function until(fn, what, timeout = 10_000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(100);
  }
}

// chatClient connects a chat user to "/" with the official client.
function chatClient(port, name, room) {
  const s = io(`http://127.0.0.1:${port}`, { auth: { name, room }, transports: ["websocket"], reconnection: false });
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`${name} did not connect`)), 5000);
    s.once("connect", () => {
      clearTimeout(t);
      ok(s);
    });
    s.once("connect_error", (e) => {
      clearTimeout(t);
      fail(e);
    });
  });
}

describe("the official Admin UI against sockio serve --admin", () => {
  let browser, ui, uiURL, server, port;
  const clients = [];
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    ui = await staticServer(dist);
    uiURL = `http://127.0.0.1:${ui.address().port}`;
    port = await freePort();
    // The UI is another origin: --origins lets it in (polling with credentials).
    server = startSockio(port, ["--admin", "admin:" + HASH, "--origins", uiURL]);
    await server.ready;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      timeout: 30_000,
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await server?.stop();
    ui?.close();
  });

  async function openUI() {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    // No internet here: the UI's web fonts are answered locally (icons from
    // the @mdi/font package) or refused.
    await page.route(/cdn\.jsdelivr\.net\/npm\/@mdi\/font@latest\/(.*)$/, async (route) => {
      const rel = new URL(route.request().url()).pathname.replace(/^.*@mdi\/font@latest\//, "");
      try {
        const body = await readFile(join(mdi, rel));
        await route.fulfill({ body, contentType: types[extname(rel)] || "text/css" });
      } catch {
        await route.fulfill({ status: 404, body: "" });
      }
    });
    await page.route(/fonts\.googleapis\.com|fonts\.gstatic\.com/, (r) => r.abort());
    await page.goto(uiURL + "/");
    return { page, errors };
  }

  async function login(page, password) {
    await page.getByLabel("Server URL").fill(`http://127.0.0.1:${port}`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: /connect/i }).click();
  }

  it("refuses a wrong password", async () => {
    const { page } = await openUI();
    await login(page, "wrong");
    await until(async () => /invalid credentials/i.test(await page.locator(".v-dialog").innerText()), "the login error");
    assert.match(await page.locator("header").innerText(), /disconnected/i);
    await page.close();
  });

  it("logs in, lists sockets and rooms, and disconnects a socket", async () => {
    const ann = await chatClient(port, "ann", "ops-room");
    const bob = await chatClient(port, "bob", "ops-room");
    clients.push(ann, bob);
    const { page, errors } = await openUI();
    await login(page, PASSWORD);
    await until(async () => /connected/i.test(await page.locator("header").innerText()) && !/disconnected/i.test(await page.locator("header").innerText()), "status connected");
    // The dashboard shows the server's stats: the "/" namespace with our 2 sockets.
    await until(async () => /Namespaces[\s\S]*\/\s+2/.test(await page.locator("main").innerText()), "namespace / with 2 sockets");
    await sleep(2500); // a second round of stats, for the charts
    await page.screenshot({ path: join(artifacts, "admin-dashboard.png") });

    await page.goto(uiURL + "/#/sockets");
    await until(async () => {
      const t = await page.locator("main").innerText();
      return t.includes(ann.id) && t.includes(bob.id);
    }, "both sockets listed");
    await page.screenshot({ path: join(artifacts, "admin-sockets.png") });

    await page.goto(uiURL + "/#/rooms");
    await until(async () => (await page.locator("main").innerText()).includes("ops-room"), "the chat room listed");
    await page.screenshot({ path: join(artifacts, "admin-rooms.png") });

    // Disconnect bob from his socket's page.
    await page.goto(uiURL + `/#/n/%2F/sockets/${bob.id}`);
    const gone = new Promise((ok) => bob.once("disconnect", ok));
    await until(async () => (await page.locator("main").innerText()).includes(bob.id), "bob's socket page");
    await page.screenshot({ path: join(artifacts, "admin-socket.png") });
    // The icon button next to the socket's status (it has no text).
    await page.locator("main button:has(i.mdi-logout)").first().click();
    const reason = await Promise.race([gone, sleep(10_000).then(() => "timeout")]);
    assert.equal(reason, "io server disconnect");
    assert.ok(ann.connected, "ann was disconnected too");

    await page.goto(uiURL + "/#/sockets");
    await until(async () => {
      const t = await page.locator("main").innerText();
      return t.includes(ann.id) && !t.includes(bob.id);
    }, "bob gone from the list, ann still there");
    assert.deepEqual(errors, []);
    await page.close();
  });
});

// redisUp reports whether the Redis of SOCKIO_TEST_REDIS answers.
const redisURL = process.env.SOCKIO_TEST_REDIS || "redis://127.0.0.1:6379";
function redisUp() {
  const u = new URL(redisURL);
  return new Promise((ok) => {
    const c = net.connect({ host: u.hostname, port: Number(u.port || 6379), timeout: 1000 }, () => {
      c.end();
      ok(true);
    });
    c.on("error", () => ok(false));
    c.on("timeout", () => {
      c.destroy();
      ok(false);
    });
  });
}

describe("the Admin UI against a 2-node cluster on Redis", async () => {
  const up = await redisUp();
  let browser, ui, uiURL, nodeA, nodeB, portA, portB;
  const clients = [];
  before(async () => {
    if (!up) return;
    ui = await staticServer(dist);
    uiURL = `http://127.0.0.1:${ui.address().port}`;
    const prefix = "admin-ui-test-" + process.pid;
    [portA, portB] = [await freePort(), await freePort()];
    const flags = ["--admin", "admin:" + HASH, "--origins", uiURL, "--redis", redisURL, "--cluster-prefix", prefix];
    nodeA = startSockio(portA, flags);
    nodeB = startSockio(portB, flags);
    await Promise.all([nodeA.ready, nodeB.ready]);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      timeout: 30_000,
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await nodeA?.stop();
    await nodeB?.stop();
    ui?.close();
  });

  it("shows both nodes and the sockets of both, and disconnects one on the other node", { skip: !up && "no Redis" }, async () => {
    const ann = await chatClient(portA, "ann", "ops-room");
    const bob = await chatClient(portB, "bob", "ops-room");
    clients.push(ann, bob);
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.route(/cdn\.jsdelivr\.net|fonts\.googleapis\.com|fonts\.gstatic\.com/, (r) => r.abort());
    await page.goto(uiURL + "/");
    await page.getByLabel("Server URL").fill(`http://127.0.0.1:${portA}`);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: /connect/i }).click();

    await page.goto(uiURL + "/#/servers");
    await until(async () => {
      const t = await page.locator("main").innerText();
      return (t.match(/#\d+/g) || []).length >= 2 || (t.match(/HEALTHY/g) || []).length >= 2;
    }, "two servers listed", 15_000);
    await page.locator(".v-dialog").waitFor({ state: "hidden", timeout: 5000 }).catch(() => {});
    await page.screenshot({ path: join(artifacts, "admin-cluster-servers.png") });

    await page.goto(uiURL + "/#/sockets");
    await until(async () => {
      const t = await page.locator("main").innerText();
      return t.includes(ann.id) && t.includes(bob.id);
    }, "the sockets of both nodes", 15_000);

    // bob is on node B; the UI is logged in to node A.
    await page.goto(uiURL + `/#/n/%2F/sockets/${bob.id}`);
    await until(async () => (await page.locator("main").innerText()).includes(bob.id), "bob's socket page");
    const gone = new Promise((ok) => bob.once("disconnect", ok));
    await page.locator("main button:has(i.mdi-logout)").first().click();
    assert.equal(await Promise.race([gone, sleep(10_000).then(() => "timeout")]), "io server disconnect");
    assert.ok(ann.connected);
    await page.goto(uiURL + "/#/sockets");
    await until(async () => {
      const t = await page.locator("main").innerText();
      return t.includes(ann.id) && !t.includes(bob.id);
    }, "bob gone, ann still listed");
    assert.deepEqual(errors, []);
    await page.close();
  });
});
