// WebTransport (HTTP/3 over QUIC) in Chromium: the official socket.io-client
// (the bundle in node_modules/socket.io/client-dist) against sockio's
// engineio/webtransport, with a self-signed ECDSA certificate pinned by
// serverCertificateHashes. Direct ("webtransport" only) and upgraded from
// polling; emit, ack, binary and broadcast round trips.
//
// Not run against the reference server: its WebTransport needs
// @fails-components/webtransport's HTTP/3 transport, whose native build
// (quiche) does not install here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Proc, here, launch, repo, watch } from "./lib.mjs";

function server() {
  const bin = join(here, "bin", "webtransport-server");
  if (!existsSync(bin)) {
    mkdirSync(join(here, "bin"), { recursive: true });
    execFileSync("go", ["build", "-o", bin, "./test/browser/webtransport-server"], { cwd: repo, stdio: "inherit", timeout: 240_000 });
  }
  const client = join(here, "node_modules", "socket.io", "client-dist", "socket.io.js");
  return new Proc(bin, ["--client", client], /webtransport on (127\.0\.0\.1:\d+) hash (\S+)\nlistening on (127\.0\.0\.1:\d+)/);
}

// session runs in the page: connect with opts, then the round trips; it
// returns what the page saw.
async function session(page, wtURL, hash, transports) {
  return page.evaluate(
    async ({ wtURL, hash, transports }) => {
      const bytes = Uint8Array.from(atob(hash), (c) => c.charCodeAt(0));
      const opts = {
        transports,
        transportOptions: { webtransport: { serverCertificateHashes: [{ algorithm: "sha-256", value: bytes }] } },
        reconnection: false,
      };
      const within = (p, what) =>
        Promise.race([p, new Promise((_, fail) => setTimeout(() => fail(new Error("timed out: " + what)), 8000))]);
      // Polling goes over TCP to the page's origin, WebTransport (direct
      // or the upgrade) to the same host and port over UDP.
      const url = transports[0] === "webtransport" ? wtURL : location.origin;
      const a = io(url, opts);
      const b = io(url, { ...opts, forceNew: true });
      await within(Promise.all([a, b].map((s) => new Promise((ok, fail) => { s.on("connect", ok); s.on("connect_error", fail); }))), "connect");
      if (transports.length > 1) {
        await within(
          Promise.all([a, b].map((s) => s.io.engine.transport.name === "webtransport" ? 0 : new Promise((ok) => s.io.engine.once("upgrade", ok)))),
          "upgrade",
        );
      }
      const echo = await within(a.emitWithAck("echo", { n: 1, s: "héllo", list: [1, "two", null] }), "echo");
      const bin = await within(new Promise((ok) => a.emit("bin", new Uint8Array([1, 2, 3, 250]), (n, back) => ok([n, Array.from(new Uint8Array(back))]))), "bin");
      const big = "x".repeat(100_000);
      const bigBack = await within(a.emitWithAck("echo", big), "big echo");
      const shouted = new Promise((ok) => b.once("shouted", ok));
      a.emit("shout", "to everyone");
      const heard = await within(shouted, "broadcast");
      const out = {
        transports: [a.io.engine.transport.name, b.io.engine.transport.name],
        echo, bin, bigOK: bigBack === big, heard,
      };
      a.close();
      b.close();
      return out;
    },
    { wtURL, hash, transports },
  );
}

// start runs the test server and a browser: the server's WebTransport
// URL and certificate hash, the page's base URL.
async function start() {
  const srv = server();
  try {
    const m = await srv.start(20_000);
    return { srv, browser: await launch(), wtURL: `https://${m[1]}`, hash: m[2], base: `http://${m[3]}` };
  } catch (err) {
    await srv.stop();
    throw err;
  }
}

describe("WebTransport in Chromium, official socket.io-client", () => {
  let srv, browser, wtURL, hash, base;
  before(async () => ({ srv, browser, wtURL, hash, base } = await start()));
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  for (const transports of [["webtransport"], ["polling", "webtransport"]]) {
    it(`round trips with transports ${JSON.stringify(transports)}`, async () => {
      const page = await browser.newPage();
      const errors = [];
      watch(page, errors, "page");
      await page.goto(base + "/");
      const got = await session(page, wtURL, hash, transports);
      // engine.io-client's WebTransport transport pipes its encoder into the
      // stream without a catch: closing its own session (a.close() above)
      // rejects that pipe, an uncaught "The session is closed." in the page
      // whatever the server. Anything else is an error.
      const real = errors.filter((e) => !/^page: The session is closed\.$/.test(e));
      assert.deepEqual(got, {
        transports: ["webtransport", "webtransport"],
        echo: { n: 1, s: "héllo", list: [1, "two", null] },
        bin: [4, [1, 2, 3, 250]],
        bigOK: true,
        heard: "to everyone",
      });
      await page.close();
      assert.deepEqual(real, []);
    });
  }
});

// Our browser client (package web, /ours/socket.io.js) over the same
// server: its WebTransport transport, direct and upgraded from polling.
// The page's helpers (wt.*) run in the page; each returns what it saw.
const pageHelpers = `
window.wt = (() => {
  const within = (p, what, ms = 8000) =>
    Promise.race([p, new Promise((_, fail) => setTimeout(() => fail(new Error("timed out: " + what)), ms))]);
  const certOpts = (hash) => ({
    webtransport: { serverCertificateHashes: [{ algorithm: "sha-256", value: Uint8Array.from(atob(hash), (c) => c.charCodeAt(0)) }] },
  });
  const connected = (s) => new Promise((ok, fail) => { s.on("connect", ok); s.on("connect_error", fail); });
  const upgraded = (s, to) => s.io.engine.transport.name === to ? 0 : new Promise((ok) => s.io.engine.once("upgrade", ok));
  return { within, certOpts, connected, upgraded };
})();
`;

describe("WebTransport in Chromium, our browser client", () => {
  let srv, browser, wtURL, hash, base;
  before(async () => ({ srv, browser, wtURL, hash, base } = await start()));
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  async function open(errors) {
    const page = await browser.newPage();
    watch(page, errors, "page");
    await page.goto(base + "/ours/");
    await page.evaluate(pageHelpers);
    return page;
  }

  for (const transports of [["webtransport"], ["polling", "webtransport"]]) {
    it(`round trips and a close with transports ${JSON.stringify(transports)}`, async () => {
      const errors = [];
      const page = await open(errors);
      const got = await page.evaluate(
        async ({ wtURL, hash, transports }) => {
          const { within, certOpts, connected, upgraded } = window.wt;
          const opts = { transports, transportOptions: certOpts(hash), reconnection: false };
          // Polling goes over TCP to the page's origin, WebTransport to
          // the same host and port over UDP.
          const url = transports[0] === "webtransport" ? wtURL : location.origin;
          const a = io(url, opts);
          const b = io(url, { ...opts, forceNew: true });
          // The managers open at once: the transports they start on.
          const first = [a.io.engine.transport.name, b.io.engine.transport.name];
          await within(Promise.all([a, b].map(connected)), "connect");
          await within(Promise.all([a, b].map((s) => upgraded(s, "webtransport"))), "upgrade");
          const echo = await within(a.emitWithAck("echo", { n: 1, s: "héllo", list: [1, "two", null] }), "echo");
          const bin = await within(
            new Promise((ok) => a.emit("bin", new Uint8Array([1, 2, 3, 250]), (n, back) => ok([n, back instanceof ArrayBuffer, Array.from(new Uint8Array(back))]))),
            "bin",
          );
          // An empty binary message: an empty frame is refused, so it goes
          // as base64 text.
          const empty = await within(new Promise((ok) => a.emit("bin", new Uint8Array(0), (n, back) => ok([n, back instanceof ArrayBuffer && back.byteLength]))), "empty bin");
          // 1000 bytes (a 16-bit length), then 100 KB (a 64-bit length)
          // each way, text and binary.
          const mid = "y".repeat(1000);
          const midOK = (await within(a.emitWithAck("echo", mid), "mid echo")) === mid;
          const big = "é".repeat(50_000);
          const bigBack = await within(a.emitWithAck("echo", big), "big echo");
          const bigBin = new Uint8Array(100_000).map((_, i) => i % 251);
          const bigBinBack = await within(new Promise((ok) => a.emit("bin", bigBin, (n, back) => ok([n, new Uint8Array(back)]))), "big bin");
          const shouted = new Promise((ok) => b.once("shouted", ok));
          a.emit("shout", "to everyone");
          const heard = await within(shouted, "broadcast");
          // a closes; b hears from the server why a left.
          const aID = a.id;
          const left = new Promise((ok) => b.on("left", (id, reason) => id === aID && ok(reason)));
          const aClosed = new Promise((ok) => a.once("disconnect", ok));
          a.close();
          const out = {
            first,
            transports: [a.io.engine ? a.io.engine.transport.name : "webtransport", b.io.engine.transport.name],
            echo, bin, empty, midOK,
            bigOK: bigBack === big,
            bigBinOK: bigBinBack[0] === 100_000 && bigBinBack[1].length === 100_000 && bigBinBack[1].every((v, i) => v === i % 251),
            heard,
            aClosed: await within(aClosed, "a's disconnect"),
            left: await within(left, "the server seeing a leave"),
          };
          b.close();
          return out;
        },
        { wtURL, hash, transports },
      );
      assert.deepEqual(got, {
        first: transports[0] === "webtransport" ? ["webtransport", "webtransport"] : ["polling", "polling"],
        transports: ["webtransport", "webtransport"],
        echo: { n: 1, s: "héllo", list: [1, "two", null] },
        bin: [4, true, [1, 2, 3, 250]],
        empty: [0, 0],
        midOK: true,
        bigOK: true,
        bigBinOK: true,
        heard: "to everyone",
        aClosed: "io client disconnect",
        left: "client namespace disconnect",
      });
      await page.close();
      // Unlike the official client, ours leaves no rejected promise behind
      // when it closes its session.
      assert.deepEqual(errors, []);
    });
  }

  // Closing a page does not end its WebTransport session where the server
  // sees it: with either client the server learns only at the ping timeout
  // (45 s). A page that closes its socket on pagehide, as the chat pages
  // do, gets its goodbye out.
  it("a page closing its socket on pagehide: the server sees it leave at once", async () => {
    const errors = [];
    const watcher = await open(errors);
    const leaver = await open(errors);
    const opts = { wtURL, hash };
    await watcher.evaluate(async ({ wtURL, hash }) => {
      const { within, certOpts, connected } = window.wt;
      window.watcher = io(wtURL, { transports: ["webtransport"], transportOptions: certOpts(hash), reconnection: false });
      window.gone = [];
      window.watcher.on("left", (id, reason) => window.gone.push([id, reason]));
      await within(connected(window.watcher), "watcher connect");
    }, opts);
    const id = await leaver.evaluate(async ({ wtURL, hash }) => {
      const { within, certOpts, connected } = window.wt;
      const s = io(wtURL, { transports: ["webtransport"], transportOptions: certOpts(hash), reconnection: false });
      await within(connected(s), "leaver connect");
      addEventListener("pagehide", () => s.close());
      return s.io.engine.transport.name === "webtransport" ? s.id : "not on webtransport";
    }, opts);
    assert.notEqual(id, "not on webtransport");
    await leaver.close();
    const reason = await watcher.evaluate(
      (id) => window.wt.within(new Promise((ok) => {
        const seen = () => { const g = window.gone.find(([who]) => who === id); if (g) ok(g[1]); else setTimeout(seen, 50); };
        seen();
      }), "the leaver's disconnect"),
      id,
    );
    assert.equal(reason, "client namespace disconnect");
    await watcher.evaluate(() => window.watcher.close());
    await watcher.close();
    assert.deepEqual(errors, []);
  });

  it("is not used unless the page lists it, and a failed session goes the reconnection way", async () => {
    const errors = [];
    const page = await open(errors);
    const got = await page.evaluate(async (wtURL) => {
      const { within, connected, upgraded } = window.wt;
      // The server offers webtransport in its upgrades; the default list
      // (polling, websocket) still ends on the websocket.
      const d = io(location.origin, { reconnection: false });
      await within(connected(d), "default connect");
      await within(upgraded(d, "websocket"), "default upgrade");
      const def = d.io.engine.transport.name;
      d.close();
      // No certificate hash: the browser refuses the self-signed
      // certificate, the session fails, and the manager retries.
      const s = io(wtURL, { transports: ["webtransport"], reconnectionDelay: 100, reconnectionDelayMax: 100, reconnectionAttempts: 2 });
      const err = await within(new Promise((ok) => s.once("connect_error", (e) => ok(String(e && e.message)))), "connect_error");
      const attempt = await within(new Promise((ok) => s.io.once("reconnect_attempt", ok)), "reconnect_attempt");
      s.close();
      return { def, failed: err.length > 0, attempt };
    }, wtURL);
    assert.deepEqual(got, { def: "websocket", failed: true, attempt: 1 });
    await page.close();
    // Chromium logs each refused session itself.
    assert.deepEqual(errors.filter((e) => !/^page console: Failed to establish a connection to https:.*CERTIFICATE_VERIFY_FAILED/.test(e)), []);
  });
});
