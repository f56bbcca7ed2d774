// The Node.js reference of bench/contract.md as a node of a cluster:
// socket.io 4.8.1 on @socket.io/redis-adapter 8 (classic or sharded) or
// @socket.io/redis-streams-adapter 0.3, the versions test/cluster uses,
// for bench/cluster.sh. Same events as bench/node/server.mjs; the cluster
// flags are bench/goserver's:
//   --adapter redis|redis-sharded|redis-streams  --redis URL
//   --key PREFIX (channel prefix, stream name, session key prefix)
//   --recovery MS (connection-state recovery window; 0: off)
//   --stream-maxlen N (redis-streams maxLen; 0: the adapter's 10000)
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter as createPubSubAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { createAdapter as createStreamsAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';

function flag(name, def) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(name + '=')) return argv[i].slice(name.length + 1);
  }
  return def;
}

function fail(msg) {
  process.stderr.write(`node-cluster: ${msg}\n`);
  process.exit(2);
}

const port = Number(flag('--port', '0'));
const kind = flag('--adapter', 'redis');
const url = flag('--redis', 'redis://127.0.0.1:6379');
const key = flag('--key', 'sockio-bench');
const recovery = Number(flag('--recovery', '0'));
const maxLen = Number(flag('--stream-maxlen', '0'));
if (!Number.isInteger(port) || port < 0) fail('bad --port');
if (!Number.isFinite(recovery) || recovery < 0) fail('bad --recovery (milliseconds)');

const pub = createClient({ url });
pub.on('error', (err) => console.error('redis:', err.message));
await pub.connect();
const clients = [pub];
let adapter;
switch (kind) {
  case 'redis':
  case 'redis-sharded': {
    const sub = pub.duplicate();
    sub.on('error', (err) => console.error('redis sub:', err.message));
    await sub.connect();
    clients.push(sub);
    adapter = kind === 'redis'
      ? createPubSubAdapter(pub, sub, { key })
      : createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode: 'dynamic' });
    break;
  }
  case 'redis-streams': {
    const opts = { streamName: key, channelPrefix: key, sessionKeyPrefix: `${key}:session:` };
    if (maxLen > 0) opts.maxLen = maxLen;
    adapter = createStreamsAdapter(pub, opts);
    break;
  }
  default:
    fail(`unknown --adapter ${kind}`);
}

const httpServer = createServer((req, res) => {
  if (req.url === '/debug/gc' && typeof global.gc === 'function') {
    global.gc();
    res.end('ok');
    return;
  }
  res.writeHead(404).end();
});
const opts = { serveClient: false, adapter };
if (recovery > 0) opts.connectionStateRecovery = { maxDisconnectionDuration: recovery };
const io = new Server(httpServer, opts);

// popAck removes the trailing acknowledgement function, if the client asked for one.
function popAck(args) {
  return typeof args[args.length - 1] === 'function' ? args.pop() : null;
}

io.on('connection', (socket) => {
  socket.on('echo', (...args) => {
    const ack = popAck(args);
    if (ack) ack(...args);
    else socket.emit('echo', ...args);
  });
  socket.on('broadcast', (...args) => {
    const ack = popAck(args);
    io.emit('broadcast', ...args);
    if (ack) ack();
  });
  socket.on('join', (room, ...rest) => {
    const ack = popAck(rest);
    socket.join(String(room));
    if (ack) ack();
  });
  socket.on('broadcast_room', (room, ...args) => {
    const ack = popAck(args);
    io.to(String(room)).emit('broadcast', ...args);
    if (ack) ack();
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
});

function shutdown() {
  setTimeout(() => process.exit(0), 1000).unref();
  io.close(() => Promise.allSettled(clients.map((c) => c.quit())).finally(() => process.exit(0)));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
