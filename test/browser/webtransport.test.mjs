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

describe("WebTransport in Chromium, official socket.io-client", () => {
  let srv, browser, wtURL, hash, base;
  before(async () => {
    srv = server();
    const m = await srv.start(20_000);
    wtURL = `https://${m[1]}`;
    hash = m[2];
    base = `http://${m[3]}`;
    browser = await launch();
  });
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
