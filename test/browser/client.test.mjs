// Our browser client (/socket.io/socket.io.js, served by sockio) in Chromium,
// against two servers that implement the same contract: sockio's
// (test/interop/goserver) and the Node.js reference (refserver.mjs, socket.io
// from npm). A behaviour that differs between the two fails here.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { freePort, launch, sleep, sockio, target, watch } from "./lib.mjs";

const PING = ["--ping-interval", "600", "--ping-timeout", "600"];

let browser, scriptServer, pageBase, clientScript, sockioProc;

before(async () => {
  // The script under test comes from `sockio serve`, as users get it.
  const port = await freePort();
  sockioProc = await sockio(port);
  clientScript = await (await fetch(`http://127.0.0.1:${port}/socket.io/socket.io.js`)).text();
  // A page on its own origin, so every target is cross-origin (CORS).
  scriptServer = createServer((req, res) => {
    if (req.url === "/client.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      res.end(clientScript);
    } else {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end('<!doctype html><meta charset="utf-8"><title>client tests</title><script src="/client.js"></script>');
    }
  });
  await new Promise((ok) => scriptServer.listen(0, "127.0.0.1", ok));
  pageBase = `http://127.0.0.1:${scriptServer.address().port}/`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (scriptServer ? scriptServer.close(ok) : ok()));
  await sockioProc?.stop();
});

// Bounded waits inside the page.
function pageHelpers() {
  window.waitFor = (emitter, event, ms = 4000) =>
    new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`timeout waiting for ${event}`)), ms);
      emitter.once(event, (...args) => {
        clearTimeout(t);
        ok(args);
      });
    });
  window.sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
  window.withTimeout = (p, ms, what) =>
    Promise.race([p, new Promise((_, fail) => setTimeout(() => fail(new Error(`timeout: ${what}`)), ms))]);
}

for (const kind of ["go", "node"]) {
  describe(`our client against the ${kind === "go" ? "sockio" : "Node.js reference"} server`, () => {
    let server, port, url, page;
    const errors = [];

    before(async () => {
      port = await freePort();
      server = await target(kind, port, PING);
      url = `http://127.0.0.1:${port}`;
      const context = await browser.newContext();
      await context.addInitScript(pageHelpers);
      page = await context.newPage();
      watch(page, errors, kind);
      await page.goto(pageBase);
      assert.equal(await page.evaluate(() => typeof io), "function");
    });

    after(async () => {
      await page?.context().close();
      await server?.stop();
    });

    it("connects over polling, upgrades to websocket, and gets acks", async () => {
      const r = await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true });
        let first;
        s.io.once("open", () => (first = s.io.engine.transport.name)); // the handshake's transport
        await waitFor(s, "connect");
        const echoed = await new Promise((ok) => s.emit("echo", { a: 1, s: "héllo ✓" }, [1, 2], (...args) => ok(args)));
        const t0 = Date.now();
        while (s.io.engine.transport.name !== "websocket" && Date.now() - t0 < 4000) await sleep(20);
        const after = await s.emitWithAck("echo", "after the upgrade");
        const out = { first, id: s.id, connected: s.connected, echoed, upgraded: s.io.engine.transport.name, after };
        s.disconnect();
        return out;
      }, url);
      assert.equal(r.first, "polling");
      assert.match(r.id, /^[\w-]{20}$/);
      assert.equal(r.connected, true);
      assert.deepEqual(r.echoed, [{ a: 1, s: "héllo ✓" }, [1, 2]]);
      assert.equal(r.upgraded, "websocket");
      assert.equal(r.after, "after the upgrade");
    });

    it("works with websocket only and with polling only", async () => {
      for (const transports of [["websocket"], ["polling"]]) {
        const r = await page.evaluate(
          async ({ url, transports }) => {
            const s = io(url, { forceNew: true, transports });
            await waitFor(s, "connect");
            const v = await s.timeout(3000).emitWithAck("echo", transports[0]);
            await sleep(300);
            const out = [v, s.io.engine.transport.name];
            s.disconnect();
            return out;
          },
          { url, transports },
        );
        assert.deepEqual(r, [transports[0], transports[0]]);
      }
    });

    it("times out acks: timeout(ms).emit and emitWithAck", async () => {
      const r = await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true });
        await waitFor(s, "connect");
        const late = await new Promise((ok) => s.timeout(300).emit("nobody-answers", 1, (err, v) => ok([err && err.message, v])));
        const fast = await new Promise((ok) => s.timeout(3000).emit("echo", 5, (err, v) => ok([err, v])));
        const withAck = await s.emitWithAck("echo", "x");
        const rejected = await s.timeout(300).emitWithAck("nobody-answers").then(
          () => "resolved",
          (err) => err.message,
        );
        s.disconnect();
        return { late, fast, withAck, rejected };
      }, url);
      assert.deepEqual(r.late, ["operation has timed out", undefined]);
      assert.deepEqual(r.fast, [null, 5]);
      assert.equal(r.withAck, "x");
      assert.equal(r.rejected, "operation has timed out");
    });

    it("answers the server's acks", async () => {
      const r = await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true });
        s.on("question", (p, cb) => cb(p + "!"));
        await waitFor(s, "connect");
        const res = await s.timeout(3000).emitWithAck("ask", { payload: "q", timeout: 2000 });
        s.disconnect();
        return res;
      }, url);
      assert.deepEqual(r, { err: null, answer: "q!" });
    });

    it("sends auth and query, and reports a refused connection", async () => {
      const r = await page.evaluate(async (url) => {
        const a = io(url, { forceNew: true, auth: { token: "t1" }, query: { k: "v" } });
        await waitFor(a, "connect");
        const hs = await a.emitWithAck("handshake");
        a.disconnect();
        const f = io(url, { forceNew: true, auth: (cb) => cb({ token: "from a function" }) });
        await waitFor(f, "connect");
        const fhs = await f.emitWithAck("handshake");
        f.disconnect();
        const bad = io(url, { forceNew: true, auth: { token: "bad" } });
        const [err] = await waitFor(bad, "connect_error");
        const out = { hs, fauth: fhs.auth, message: err.message, data: err.data, active: bad.active, connected: bad.connected };
        bad.disconnect();
        return out;
      }, url);
      assert.deepEqual(r.hs, { query: { k: "v" }, auth: { token: "t1" }, hasAddress: true });
      assert.deepEqual(r.fauth, { token: "from a function" });
      assert.equal(r.message, "unauthorized");
      assert.deepEqual(r.data, { reason: "bad token" });
      assert.equal(r.active, false);
      assert.equal(r.connected, false);
    });

    it("reaches namespaces by URL path over one connection", async () => {
      const r = await page.evaluate(async (url) => {
        const root = io(url);
        const admin = io(url + "/admin", { auth: { role: "admin" } });
        await Promise.all([waitFor(root, "connect"), waitFor(admin, "connect")]);
        const who = await admin.timeout(3000).emitWithAck("whoami");
        const shared = root.io === admin.io;
        const denied = io(url + "/admin", { auth: { role: "guest" } }); // same namespace again: a new connection
        const [derr] = await waitFor(denied, "connect_error");
        const nope = io(url + "/nope");
        const [nerr] = await waitFor(nope, "connect_error");
        const out = { who, shared, ids: root.id !== admin.id, denied: derr.message, deniedShared: denied.io === root.io, nope: nerr.message };
        for (const s of [root, admin, denied, nope]) s.disconnect();
        return out;
      }, url);
      assert.deepEqual(r, {
        who: "/admin",
        shared: true,
        ids: true,
        denied: "forbidden",
        deniedShared: false,
        nope: "Invalid namespace",
      });
    });

    it("dispatches with on, once, off and onAny", async () => {
      const r = await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true });
        await waitFor(s, "connect");
        const seen = { on: [], once: [], any: [], off: 0 };
        const offed = () => seen.off++;
        s.on("echo", (v) => seen.on.push(v));
        s.once("echo", (v) => seen.once.push(v));
        s.on("echo", offed);
        s.off("echo", offed);
        s.onAny((event, ...args) => seen.any.push([event, ...args]));
        s.emit("echo", 1);
        s.emit("echo", 2, "two");
        const t0 = Date.now();
        while (seen.on.length < 2 && Date.now() - t0 < 3000) await sleep(20);
        s.disconnect();
        return seen;
      }, url);
      assert.deepEqual(r, { on: [1, 2], once: [1], any: [["echo", 1], ["echo", 2, "two"]], off: 0 });
    });

    it("sends and receives binary on both transports", async () => {
      for (const transports of [["polling"], ["websocket"]]) {
        const r = await page.evaluate(
          async ({ url, transports }) => {
            const s = io(url, { forceNew: true, transports });
            await waitFor(s, "connect");
            const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
            const [a, b] = await new Promise((ok) =>
              s.timeout(3000).emit("echo", bytes, { nested: [bytes.buffer], n: 1 }, (err, a, b) => ok([a, b])),
            );
            s.disconnect();
            return {
              a: a instanceof ArrayBuffer ? Array.from(new Uint8Array(a)) : String(a),
              b: b.nested[0] instanceof ArrayBuffer ? Array.from(new Uint8Array(b.nested[0])) : String(b),
              n: b.n,
            };
          },
          { url, transports },
        );
        assert.deepEqual(r, { a: [0, 1, 2, 253, 254, 255], b: [0, 1, 2, 253, 254, 255], n: 1 }, transports[0]);
      }
    });

    it("buffers emits made offline and drops volatile ones", async () => {
      const r = await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true, autoConnect: false });
        const pushed = [];
        s.on("echo", (v) => pushed.push(v));
        const acked = new Promise((ok) => s.emit("echo", "buffered", ok));
        s.emit("echo", "buffered without ack");
        s.volatile.emit("echo", "volatile, dropped");
        s.connect();
        const v = await withTimeout(acked, 3000, "buffered ack");
        await sleep(400);
        // Connected and idle now: a volatile emit goes out.
        s.volatile.emit("echo", "volatile, sent");
        await sleep(400);
        s.disconnect();
        return { v, pushed };
      }, url);
      assert.equal(r.v, "buffered");
      assert.deepEqual(r.pushed, ["buffered without ack", "volatile, sent"]);
    });

    it("disconnects and connects again; a server-side disconnect does not reconnect", async () => {
      const r = await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true });
        await waitFor(s, "connect");
        const id1 = s.id;
        const gone = waitFor(s, "disconnect");
        s.disconnect();
        const [reason1] = await gone;
        const back = waitFor(s, "connect");
        s.connect();
        await back;
        const id2 = s.id;
        const kicked = waitFor(s, "disconnect");
        s.emit("disconnect-me", false);
        const [reason2] = await kicked;
        await sleep(1500);
        return { reason1, reason2, newId: id1 !== id2 && !!id2, active: s.active, connected: s.connected };
      }, url);
      assert.deepEqual(r, { reason1: "io client disconnect", reason2: "io server disconnect", newId: true, active: false, connected: false });
    });

    it("keeps the heartbeat, notices a silent server (ping timeout), and reconnects", async () => {
      const setup = page.evaluate(async (url) => {
        const s = io(url, { forceNew: true, reconnectionDelay: 200, reconnectionDelayMax: 400 });
        window.hb = s;
        window.pings = 0;
        s.io.on("ping", () => window.pings++);
        await waitFor(s, "connect");
        return s.id;
      }, url);
      const id = await setup;
      await sleep(1600);
      const alive = await page.evaluate(() => ({ pings: window.pings, id: window.hb.id, connected: window.hb.connected }));
      assert.ok(alive.pings >= 2, `pings: ${alive.pings}`);
      assert.equal(alive.id, id);
      assert.equal(alive.connected, true);

      const reason = page.evaluate(() => waitFor(window.hb, "disconnect", 5000).then(([r]) => r));
      server.child.kill("SIGSTOP");
      try {
        assert.equal(await reason, "ping timeout");
      } finally {
        server.child.kill("SIGCONT");
      }
      const again = await page.evaluate(async () => {
        if (!window.hb.connected) await waitFor(window.hb, "connect", 8000);
        const v = await window.hb.timeout(3000).emitWithAck("echo", "alive");
        window.hb.disconnect();
        return v;
      });
      assert.equal(again, "alive");
    });

    it("reconnects with backoff after a server restart and delivers what was emitted meanwhile", async () => {
      await page.evaluate(async (url) => {
        const s = io(url, { forceNew: true, reconnectionDelay: 300, reconnectionDelayMax: 1000 });
        window.rc = s;
        window.attempts = [];
        s.io.on("reconnect_attempt", (n) => window.attempts.push(n));
        await waitFor(s, "connect");
        window.firstId = s.id;
      }, url);
      await server.stop("SIGKILL");
      await page.evaluate(() => (window.rc.connected ? waitFor(window.rc, "disconnect") : null));
      const pending = page.evaluate(() => new Promise((ok) => window.rc.emit("echo", "emitted while down", ok)));
      await sleep(1200);
      server = await target(kind, port, PING);
      const [reconnected, acked] = await Promise.all([
        page.evaluate(() => (window.rc.connected ? true : waitFor(window.rc.io, "reconnect", 8000).then(() => true))),
        Promise.race([pending, sleep(10_000).then(() => "no ack")]),
      ]);
      const r = await page.evaluate(() => {
        const out = { attempts: window.attempts, newId: window.rc.id !== window.firstId };
        window.rc.disconnect();
        return out;
      });
      assert.equal(reconnected, true);
      assert.equal(acked, "emitted while down");
      assert.ok(r.attempts.length >= 1 && r.attempts[0] === 1, `attempts ${r.attempts}`);
      assert.ok(r.newId);
    });

    it("had no page errors", () => {
      assert.deepEqual(errors, []);
    });
  });
}
