// The Node.js reference server of bench/contract.md, on socket.io 4.8.1
// from npm. bench/compare.sh runs it pinned to one core, side by side with
// bench/goserver (sockio), under the same load.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

function flag(name, def) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i].startsWith(name + '=')) return argv[i].slice(name.length + 1);
  }
  return def;
}

const port = Number(flag('--port', '0'));
if (!Number.isInteger(port) || port < 0) {
  process.stderr.write(`server: bad --port\n`);
  process.exit(2);
}

// GET /debug/gc runs a full collection (node --expose-gc), so the bench can
// read the RSS of live memory; socket.io hands every other path to this handler.
const httpServer = createServer((req, res) => {
  if (req.url === '/debug/gc' && typeof global.gc === 'function') {
    global.gc();
    res.end('ok');
    return;
  }
  res.writeHead(404).end();
});
// socket.io's defaults (perMessageDeflate off, pingInterval 25 s, both
// transports), as sockio's; only the served client bundle is turned off.
const io = new Server(httpServer, { serveClient: false });

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
  io.close(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
