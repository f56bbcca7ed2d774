// The plain-WebSocket chat (/plain.html on /ws): native WebSocket and the
// reconnecting helper, in Chromium, against `sockio serve`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { artifacts, freePort, launch, sockio, until, watch } from "./lib.mjs";

describe("plain-WebSocket chat page", () => {
  let browser, server, port, base;
  const errors = [];
  const people = {};

  before(async () => {
    port = await freePort();
    server = await sockio(port);
    base = `http://127.0.0.1:${port}/plain.html`;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function open(name) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    await context.addInitScript((n) => localStorage.setItem("sockio.chat.name", n), name);
    const page = await context.newPage();
    watch(page, errors, name);
    await page.goto(base);
    await connected(page);
    people[name] = page;
    return page;
  }

  const connected = (page, timeout = 5000) => page.waitForSelector('#status[data-state="connected"]', { timeout });
  const users = (page) => page.$$eval("#users .user-name", (els) => els.map((e) => e.textContent).sort());
  const bubbles = (page) => page.$$eval("#messages .msg .bubble", (els) => els.map((e) => e.textContent));
  async function say(page, text) {
    await page.fill("#input", text);
    await page.press("#input", "Enter");
  }

  it("two people see each other and talk both ways, with typing", async () => {
    const ann = await open("ann");
    const ben = await open("ben");
    await until(async () => JSON.stringify(await users(ann)) === '["ann","ben"]', "ann sees ben");
    await until(async () => JSON.stringify(await users(ben)) === '["ann","ben"]', "ben sees ann");
    await say(ann, "hello over a plain WebSocket <i>!</i>");
    await until(async () => (await bubbles(ben)).includes("hello over a plain WebSocket <i>!</i>"), "ben gets it");
    await until(async () => (await ann.$eval(".msg--own.msg--last", (e) => e.dataset.state)) === "acked", "delivered");
    await say(ben, "and back");
    await until(async () => (await bubbles(ann)).includes("and back"), "ann gets it");
    await ben.type("#input", "typing", { delay: 20 });
    await until(async () => (await ann.textContent("#typing")) === "ben is typing…", "typing shown");
    await ann.screenshot({ path: join(artifacts, "plain.png") });
    await ben.fill("#input", "");
  });

  it("replays the history to a late joiner", async () => {
    const cy = await open("cy");
    const history = await bubbles(cy);
    assert.ok(history.includes("hello over a plain WebSocket <i>!</i>") && history.includes("and back"));
    await until(async () => JSON.stringify(await users(people.ann)) === '["ann","ben","cy"]', "ann sees cy");
    await cy.context().close();
    await until(async () => JSON.stringify(await users(people.ann)) === '["ann","ben"]', "cy gone");
  });

  it("reconnects after a server restart; a message typed offline arrives", async () => {
    const { ann, ben } = people;
    await server.stop("SIGKILL");
    await until(async () => (await ann.getAttribute("#status", "data-state")) === "reconnecting", "reconnecting");
    await until(async () => /attempt \d+/.test(await ann.textContent("#status")), "attempt shown");
    await say(ann, "typed while the server was down");
    assert.equal(await ann.$eval(".msg--own.msg--last", (e) => e.dataset.state), "queued");
    server = await sockio(port);
    await connected(ann, 15_000);
    await connected(ben, 15_000);
    await until(async () => JSON.stringify(await users(ben)) === '["ann","ben"]', "both back", 10_000);
    await until(async () => (await ann.$eval(".msg--own.msg--last", (e) => e.dataset.state)) === "acked", "acked", 10_000);
    // Live if ben was back first, else from the history replayed on his join.
    await until(async () => (await bubbles(ben)).includes("typed while the server was down"), "ben has it");
  });

  it("opens from a crafted link (#%) and lives on", async () => {
    // "%" is not valid percent-encoding: decodeURIComponent threw a
    // URIError at start-up, and the page was dead.
    const pageErrors = errors.length;
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    await context.addInitScript(() => localStorage.setItem("sockio.chat.name", "hashy"));
    const page = await context.newPage();
    watch(page, errors, "hashy");
    await page.goto(base + "#%");
    await connected(page);
    await until(async () => (await page.textContent("#room-name")) === "lobby", "in the default room");
    await say(page, "alive after #%");
    await until(async () => (await page.$eval(".msg--own.msg--last", (e) => e.dataset.state)) === "acked", "delivered");
    assert.deepEqual(errors.slice(pageErrors), []);
    await context.close();
  });

  it("had no page errors", () => {
    assert.deepEqual(errors, []);
  });
});
