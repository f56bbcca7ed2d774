// Our client outside the browser: the ES module build, as served by sockio,
// imported into Node.js and run against sockio's contract server and the
// Node.js reference server (fetch for polling, the ws package for WebSocket).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { freePort, sockio, target } from "./lib.mjs";

let io;
let sockioProc;

before(async () => {
  const port = await freePort();
  sockioProc = await sockio(port);
  const src = await (await fetch(`http://127.0.0.1:${port}/socket.io/socket.io.esm.js`)).text();
  ({ io } = await import("data:text/javascript;base64," + Buffer.from(src).toString("base64")));
});

after(() => sockioProc?.stop());

function connect(url, opts) {
  const s = io(url, { forceNew: true, WebSocket, ...opts });
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error("no connect")), 4000);
    s.once("connect", () => {
      clearTimeout(t);
      ok(s);
    });
  });
}

for (const kind of ["go", "node"]) {
  describe(`our client in Node.js against the ${kind === "go" ? "sockio" : "reference"} server`, () => {
    let server, url;

    before(async () => {
      const port = await freePort();
      server = await target(kind, port);
      url = `http://127.0.0.1:${port}`;
    });

    after(() => server?.stop());

    for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
      it(`talks over ${transports.join(" then ")}`, async () => {
        const s = await connect(url, { transports });
        try {
          assert.deepEqual(await s.timeout(3000).emitWithAck("echo", { hello: "node" }, 42), { hello: "node" });
          const bin = await s.timeout(3000).emitWithAck("echo", new Uint8Array([7, 8, 9]));
          assert.deepEqual(Array.from(new Uint8Array(bin)), [7, 8, 9]);
          const answered = await new Promise((ok) => {
            s.once("question", (p, cb) => cb(p * 2));
            s.emit("ask", { payload: 21, timeout: 2000 }, ok);
          });
          assert.deepEqual(answered, { err: null, answer: 42 });
        } finally {
          s.disconnect();
        }
      });
    }
  });
}
