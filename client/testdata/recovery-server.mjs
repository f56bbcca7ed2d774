// A Node.js reference server (socket.io from npm) with connection-state
// recovery on, for the Go client's recovery tests. The contract server of
// test/interop has recovery off, hence this one.
//
//   node recovery-server.mjs --port 0     prints "listening on 127.0.0.1:<port>"
//
// Namespace "/" events (ack = the client's ack function):
//   join(room, ack)           join room, then ack()
//   tick(spec, ack)           emit "tick" {i} to spec.room for i < spec.n, then ack()
//   drop-and-emit(spec)       close the connection (a recoverable "forced close"),
//                             then emit "missed" {i} to spec.room for i < spec.n
//   whoami(ack)               ack({id, recovered, auth}) of the socket
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

// socket.io is installed under test/interop (make deps).
const require = createRequire(new URL('../../test/interop/package.json', import.meta.url));
const { Server } = require('socket.io');

let port = 0;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--port' && /^\d+$/.test(argv[i + 1] ?? '')) port = Number(argv[++i]);
  else {
    process.stderr.write(`recovery-server: unknown argument ${argv[i]}\n`);
    process.exit(2);
  }
}

const httpServer = createServer();
const io = new Server(httpServer, {
  serveClient: false,
  connectionStateRecovery: { maxDisconnectionDuration: 30000, skipMiddlewares: true },
});

const safe = (fn) => (typeof fn === 'function' ? fn : () => {});

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => { socket.join(room); safe(ack)(); });
  socket.on('tick', (spec, ack) => {
    for (let i = 0; i < spec.n; i++) io.to(spec.room).emit('tick', { i });
    safe(ack)();
  });
  socket.on('drop-and-emit', (spec) => {
    socket.conn.close();
    setTimeout(() => {
      for (let i = 0; i < spec.n; i++) io.to(spec.room).emit('missed', { i });
    }, 50);
  });
  socket.on('whoami', (ack) => {
    safe(ack)({ id: socket.id, recovered: socket.recovered, auth: socket.handshake.auth });
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
});

function shutdown() {
  setTimeout(() => process.exit(0), 2000).unref();
  io.close(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// Exit when the test process that started us is gone.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) shutdown(); }, 1000).unref();
