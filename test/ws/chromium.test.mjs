// Chromium's native WebSocket (Debian's chromium, driven by playwright-core)
// against `sockio echo`, and web/reconnecting-websocket.js in the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startEcho, root } from './lib/echo.mjs';

let browser, page, plain, deflate, site;

// The page comes from a loopback HTTP server: Chromium blocks a public
// context (about:blank) from opening connections to loopback addresses
// (Local Network Access), while a loopback page may.
async function serveSite() {
  const helper = await readFile(path.join(root, 'web/reconnecting-websocket.js'), 'utf8');
  const index = `<!doctype html><meta charset="utf-8"><title>ws peers</title>
<script type="module">
import { ReconnectingWebSocket } from '/reconnecting-websocket.js';
window.ReconnectingWebSocket = ReconnectingWebSocket;
</script>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/reconnecting-websocket.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(helper);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(index);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

before(async () => {
  [plain, deflate, site] = await Promise.all([startEcho(), startEcho(['--deflate']), serveSite()]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${site.address().port}/`);
  await page.waitForFunction(() => window.ReconnectingWebSocket !== undefined);
});

after(async () => {
  await browser?.close();
  site?.close();
  await Promise.all([plain, deflate].filter(Boolean).map((e) => e.stop()));
});

test('text and binary echo, up to 16 MiB', async () => {
  const result = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
    const next = () => new Promise((res) => { ws.onmessage = (e) => res(e.data); });
    const out = [];
    for (const n of [0, 125, 126, 65535, 65536, 1 << 20, 16 << 20]) {
      const text = 'ñ'.repeat(n >> 1);
      let got = next();
      ws.send(text);
      out.push((await got) === text);
      const bin = new Uint8Array(n).map((_, i) => i % 253);
      got = next();
      ws.send(bin);
      const back = new Uint8Array(await got);
      out.push(back.length === n && back.every((b, i) => b === i % 253));
    }
    ws.close(1000);
    return out;
  }, plain.url);
  assert.deepEqual(result, result.map(() => true));
});

test('close code and reason reach the server and come back', async () => {
  const ev = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    await new Promise((res) => { ws.onopen = res; });
    const closed = new Promise((res) => { ws.onclose = (e) => res({ code: e.code, wasClean: e.wasClean }); });
    ws.close(4003, 'bye from chromium');
    return closed;
  }, plain.url);
  assert.deepEqual(ev, { code: 4003, wasClean: true });
});

test('permessage-deflate is negotiated with the browser', async () => {
  const res = await page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    await new Promise((res) => { ws.onopen = res; });
    const big = JSON.stringify(Array.from({ length: 20000 }, (_, i) => ({ i })));
    const got = new Promise((res) => { ws.onmessage = (e) => res(e.data); });
    ws.send(big);
    const ok = (await got) === big;
    ws.close();
    return { ext: ws.extensions, ok };
  }, deflate.url);
  assert.match(res.ext, /permessage-deflate/);
  assert.equal(res.ok, true);
});

test('server shutdown reaches the browser as 1001', async () => {
  const e = await startEcho();
  const closed = page.evaluate(async (url) => {
    const ws = new WebSocket(url);
    await new Promise((res) => { ws.onopen = res; });
    window.__ready = true;
    return new Promise((res) => { ws.onclose = (ev) => res(ev.code); });
  }, e.url);
  await page.waitForFunction(() => window.__ready === true);
  await e.stop();
  assert.equal(await closed, 1001);
});

test('ReconnectingWebSocket comes back after a server restart', async () => {
  let e = await startEcho();
  await page.evaluate((url) => {
    window.rws = new window.ReconnectingWebSocket(url, [], { minDelay: 50, maxDelay: 200 });
    window.log = [];
    for (const t of ['open', 'close', 'reconnecting']) window.rws.addEventListener(t, () => window.log.push(t));
    window.rws.addEventListener('message', (ev) => window.log.push('msg:' + ev.data));
  }, e.url);
  await page.waitForFunction(() => window.log.includes('open'));
  const addr = e.addr;
  await e.stop();
  await page.waitForFunction(() => window.log.includes('close'));
  e = await startEcho([], addr);
  try {
    await page.waitForFunction(() => window.log.filter((x) => x === 'open').length === 2, null, { timeout: 10000 });
    await page.evaluate(() => window.rws.send('after restart'));
    await page.waitForFunction(() => window.log.includes('msg:after restart'));
    const pending = await page.evaluate(() => { window.rws.close(); return window.rws.timersPending(); });
    assert.equal(pending, false);
  } finally {
    await e.stop();
  }
});
