// Helpers of the browser tests: free ports, the processes under test
// (`sockio serve`, the contract servers), Chromium, and bounded waits.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "../..");
export const artifacts = join(here, "artifacts");

const packages = { sockio: "./cmd/sockio", goserver: "./test/interop/goserver" };

// binary returns the path of a Go binary run.sh built, building it when a
// test file runs on its own.
export function binary(name) {
  const path = join(here, "bin", name);
  if (!existsSync(path)) {
    mkdirSync(join(here, "bin"), { recursive: true });
    execFileSync("go", ["build", "-o", path, packages[name]], { cwd: repo, stdio: "inherit", timeout: 240_000 });
  }
  return path;
}

export async function freePort() {
  const srv = net.createServer();
  await new Promise((ok, fail) => srv.listen(0, "127.0.0.1", ok).on("error", fail));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// until polls fn until it returns a truthy value, or fails after timeout.
export async function until(fn, what, timeout = 5000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await sleep(50);
  }
}

// Proc is a server process under test; start resolves once its output
// matches ready.
export class Proc {
  constructor(cmd, args, ready) {
    Object.assign(this, { cmd, args, ready, output: "" });
  }

  start(timeout = 10_000) {
    this.output = "";
    this.child = spawn(this.cmd, this.args, { cwd: here, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((ok) => this.child.once("exit", (code, signal) => ok({ code, signal })));
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${this.cmd} not ready in ${timeout} ms:\n${this.output}`)), timeout);
      const onData = (chunk) => {
        this.output += chunk;
        const m = this.output.match(this.ready);
        if (m) {
          clearTimeout(timer);
          ok(m);
        }
      };
      this.child.stdout.on("data", onData);
      this.child.stderr.on("data", onData);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        fail(new Error(`${this.cmd} exited (${code}) before it was ready:\n${this.output}`));
      });
    });
  }

  async stop(signal = "SIGTERM", timeout = 5000) {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = sleep(timeout).then(() => "late");
    if ((await Promise.race([this.exited, timer])) === "late") {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

// sockio runs `sockio serve` on port, with extra flags.
export async function sockio(port, extra = []) {
  const p = new Proc(binary("sockio"), ["serve", "--addr", `127.0.0.1:${port}`, ...extra], /sockio chat serving/);
  await p.start();
  return p;
}

// target runs a contract server: "go" (sockio's test/interop/goserver) or
// "node" (refserver.mjs, the reference socket.io).
export async function target(kind, port, extra = []) {
  const [cmd, args] =
    kind === "go"
      ? [binary("goserver"), ["--port", String(port), ...extra]]
      : [process.execPath, [join(here, "refserver.mjs"), "--port", String(port), ...extra]];
  const p = new Proc(cmd, args, /listening on 127\.0\.0\.1:(\d+)/);
  await p.start();
  return p;
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    timeout: 30_000,
  });
}

// watch records a page's uncaught errors and console errors; a test ends
// with assert.deepEqual(errors, []).
export function watch(page, errors, label) {
  page.on("pageerror", (err) => errors.push(`${label}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource|ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(msg.text())) {
      errors.push(`${label} console: ${msg.text()}`);
    }
  });
}
