// Starts a server that implements CONTRACT.md: the Go server (sockio) or the
// Node.js reference (socket.io from npm). Every test runs against both so a
// behaviour difference shows up as a failing test on our side.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const goBinary = path.join(here, '.bin', 'goserver');

// targets lists the servers to test, from INTEROP_TARGETS (default both).
export const targets = (process.env.INTEROP_TARGETS || 'go,node')
  .split(',').map((s) => s.trim()).filter(Boolean);

let built = false;
function buildGo() {
  if (built) return;
  mkdirSync(path.dirname(goBinary), { recursive: true });
  execFileSync('go', ['build', '-race', '-o', goBinary, './test/interop/goserver'], { cwd: repo, stdio: 'inherit' });
  built = true;
}

// startServer starts one server and resolves with { url, port, stop, output }.
// flags: { pingInterval, pingTimeout, maxHttpBufferSize, connectTimeout } in ms / bytes.
export async function startServer(target, flags = {}) {
  const args = ['--port', '0'];
  for (const [k, v] of Object.entries(flags)) args.push(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, String(v));
  let child;
  if (target === 'go') {
    buildGo();
    child = spawn(goBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } else if (target === 'node') {
    child = spawn(process.execPath, [path.join(here, 'refserver.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    throw new Error(`unknown target ${target}`);
  }
  let output = '';
  child.stderr.on('data', (d) => { output += d; });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${target} server did not start: ${output}`)), 30000);
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${target} server exited ${code}: ${output}`)); });
  });
  child.stdout.resume();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await once(child, 'exit');
      clearTimeout(t);
    },
  };
}
