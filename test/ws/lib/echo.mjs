// Starts `sockio echo` (the binary in SOCKIO_BIN, built by run.sh, or
// `go run ./cmd/sockio` from the repository root) on a loopback port.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export async function startEcho(args = [], addr = '127.0.0.1:0') {
  const bin = process.env.SOCKIO_BIN;
  const argv = ['echo', '--addr', addr, '--quiet', ...args];
  const child = bin
    ? spawn(bin, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn('go', ['run', './cmd/sockio', ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('echo did not start in 60 s')), 60000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (ws:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo exited with ${code}: ${out}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    addr: url.slice('ws://'.length),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
