// What `sockio serve` answers over plain HTTP: the client script builds with
// ETag, Cache-Control and gzip; the pages with their security headers.
import assert from "node:assert/strict";
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { freePort, sockio } from "./lib.mjs";

// get makes a raw request (no automatic decompression), bounded in time.
function get(url, headers = {}, method = "GET") {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", fail);
    req.end();
  });
}

describe("sockio serve over HTTP", () => {
  let server, base;
  before(async () => {
    const port = await freePort();
    server = await sockio(port);
    base = `http://127.0.0.1:${port}`;
  });
  after(() => server?.stop());

  it("serves the classic client with ETag, Cache-Control and gzip", async () => {
    const plain = await get(base + "/socket.io/socket.io.js");
    assert.equal(plain.status, 200);
    assert.match(plain.headers["content-type"], /^text\/javascript/);
    assert.equal(plain.headers["cache-control"], "public, max-age=0");
    assert.match(plain.headers.etag, /^"[0-9a-f]{16}"$/);
    assert.equal(plain.headers["content-encoding"], undefined);
    const src = plain.body.toString();
    assert.match(src, /\.io = io;/);
    assert.doesNotMatch(src, /^export /m);

    const gz = await get(base + "/socket.io/socket.io.js", { "Accept-Encoding": "gzip, deflate, br" });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.match(gz.headers.vary, /Accept-Encoding/);
    assert.ok(gz.body.length < plain.body.length / 2, `gzip ${gz.body.length} of ${plain.body.length}`);
    assert.equal(gunzipSync(gz.body).toString(), src);

    const again = await get(base + "/socket.io/socket.io.js", { "If-None-Match": plain.headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const againGz = await get(base + "/socket.io/socket.io.js", { "If-None-Match": gz.headers.etag, "Accept-Encoding": "gzip" });
    assert.equal(againGz.status, 304);
    const head = await get(base + "/socket.io/socket.io.js", {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], String(plain.body.length));
  });

  it("serves the ES module build and the .min aliases", async () => {
    const esm = await get(base + "/socket.io/socket.io.esm.js");
    assert.equal(esm.status, 200);
    assert.match(esm.body.toString(), /^export default io;$/m);
    assert.notEqual(esm.headers.etag, (await get(base + "/socket.io/socket.io.js")).headers.etag);
    for (const name of ["socket.io.min.js", "socket.io.esm.min.js"]) {
      assert.equal((await get(base + "/socket.io/" + name)).status, 200, name);
    }
    assert.equal((await get(base + "/socket.io/socket.io.msgpack.min.js")).status, 400, "anything else is the protocol's");
  });

  it("serves the chat page with a strict Content-Security-Policy", async () => {
    const page = await get(base + "/", { "Accept-Encoding": "gzip" });
    assert.equal(page.status, 200);
    assert.match(page.headers["content-type"], /^text\/html/);
    assert.match(page.headers["content-security-policy"], /script-src 'self'/);
    assert.equal(page.headers["x-content-type-options"], "nosniff");
    assert.match(gunzipSync(page.body).toString(), /<title>sockio chat<\/title>/);
    for (const file of ["/chat.js", "/chat.css", "/favicon.svg", "/plain.html", "/plain.js", "/reconnecting-websocket.js"]) {
      assert.equal((await get(base + file)).status, 200, file);
    }
    assert.equal((await get(base + "/nope.html")).status, 404);
    assert.equal((await get(base + "/", {}, "POST")).status, 405);
  });
});
