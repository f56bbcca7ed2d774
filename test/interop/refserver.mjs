// The Node.js reference implementation of CONTRACT.md, built on socket.io from
// npm. The interop tests run against it and against the Go server (sockio);
// where the two differ, the reference decides.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import msgpackParser from 'socket.io-msgpack-parser';

const defaults = {
  port: 0,
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1000000,
  connectTimeout: 45000,
  recovery: 0,
  allowEIO3: 0,
  parser: 'default',
};

function parseFlags(argv) {
  const opts = { ...defaults };
  const names = {
    '--port': 'port',
    '--ping-interval': 'pingInterval',
    '--ping-timeout': 'pingTimeout',
    '--max-http-buffer-size': 'maxHttpBufferSize',
    '--connect-timeout': 'connectTimeout',
    '--recovery': 'recovery',
    '--allow-eio3': 'allowEIO3',
  };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value;
    const eq = flag.indexOf('=');
    if (eq > 0) { value = flag.slice(eq + 1); flag = flag.slice(0, eq); } else { value = argv[++i]; }
    if (flag === '--parser') {
      if (value !== 'default' && value !== 'msgpack') fail(`flag --parser: default or msgpack, got ${value}`);
      opts.parser = value;
      continue;
    }
    const key = names[flag];
    if (!key) fail(`unknown flag ${flag}`);
    if (value === undefined || !/^\d+$/.test(value)) fail(`flag ${flag} needs a non-negative integer, got ${value}`);
    opts[key] = Number(value);
  }
  return opts;
}

function fail(msg) {
  process.stderr.write(`refserver: ${msg}\n`);
  process.exit(2);
}

const opts = parseFlags(process.argv.slice(2));

const httpServer = createServer();
const io = new Server(httpServer, {
  path: '/socket.io/',
  serveClient: false,
  transports: ['polling', 'websocket'],
  allowUpgrades: true,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: opts.maxHttpBufferSize,
  connectTimeout: opts.connectTimeout,
  cors: { origin: true, credentials: true },
  connectionStateRecovery: opts.recovery > 0 ? { maxDisconnectionDuration: opts.recovery } : undefined,
  allowEIO3: opts.allowEIO3 > 0,
  ...(opts.parser === 'msgpack' ? { parser: msgpackParser } : {}),
});

const root = io.of('/');

// splitAck removes the trailing ack function (if the client asked for one).
function splitAck(args) {
  const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
  return [args, ack];
}

function safe(fn) {
  return typeof fn === 'function' ? fn : () => {};
}

// Every disconnect, in any namespace, is reported to room "observers" of "/".
function reportDisconnects(socket) {
  socket.on('disconnect', (reason) => {
    root.to('observers').emit('gone', { id: socket.id, nsp: socket.nsp.name, reason });
  });
}

function onEcho(socket) {
  socket.on('echo', (...all) => {
    const [args, ack] = splitAck(all);
    if (ack) ack(...args);
    else socket.emit('echo', ...args);
  });
}

function sortedAnswers(answers) {
  return (answers || [])
    .map((a) => [JSON.stringify(a === undefined ? null : a), a === undefined ? null : a])
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    .map((p) => p[1]);
}

function roomsOf(spec) {
  return Array.isArray(spec && spec.rooms) ? spec.rooms : [];
}

root.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  // The query too: a Socket.IO v2 client (EIO=3) cannot send auth on "/".
  if (auth.token === 'bad' || socket.handshake.query.token === 'bad') {
    const err = new Error('unauthorized');
    err.data = { reason: 'bad token' };
    return next(err);
  }
  next();
});

root.on('connection', (socket) => {
  reportDisconnects(socket);
  onEcho(socket);

  socket.on('observe', (ack) => { socket.join('observers'); safe(ack)(); });
  socket.on('join', (room, ack) => { socket.join(room); safe(ack)(); });
  socket.on('leave', (room, ack) => { socket.leave(room); safe(ack)(); });
  socket.on('rooms', (ack) => { safe(ack)([...socket.rooms].sort()); });

  socket.on('handshake', (ack) => {
    const hs = socket.handshake;
    safe(ack)({
      query: { k: hs.query.k ?? null },
      auth: hs.auth,
      hasAddress: (hs.address ?? '') !== '',
    });
  });

  socket.on('to', (spec, ack) => {
    spec = spec || {};
    let op = socket.nsp;
    const rooms = roomsOf(spec);
    if (rooms.length) op = op.to(rooms);
    if (Array.isArray(spec.except) && spec.except.length) op = op.except(spec.except);
    if (spec.volatile) op = op.volatile;
    op.emit(spec.event, ...(Array.isArray(spec.args) ? spec.args : []));
    safe(ack)();
  });

  socket.on('ask', (spec, ack) => {
    spec = spec || {};
    socket.timeout(spec.timeout).emit('question', spec.payload, (err, answer) => {
      safe(ack)(err ? { err: 'timeout', answer: null } : { err: null, answer: answer === undefined ? null : answer });
    });
  });

  socket.on('ask-all', (spec, ack) => {
    spec = spec || {};
    let op = socket.nsp;
    const rooms = roomsOf(spec);
    if (rooms.length) op = op.to(rooms);
    op.timeout(spec.timeout).emit('question', 'all', (err, answers) => {
      safe(ack)({ err: err ? 'timeout' : null, answers: sortedAnswers(answers) });
    });
  });

  socket.on('volatile-burst', (n, ack) => {
    socket.emit('seq', { i: 0 });
    for (let k = 0; k < n; k++) socket.volatile.emit('v', { i: k });
    socket.emit('seq', { i: 1 });
    safe(ack)();
  });

  socket.on('disconnect-me', (close) => {
    socket.disconnect(close === true);
  });

  socket.on('sockets', async (ack) => {
    const sockets = await root.fetchSockets();
    safe(ack)(sockets.map((s) => s.id).sort());
  });

  socket.on('socketsJoin', (room, ack) => {
    root.socketsJoin(room);
    safe(ack)();
  });
});

const admin = io.of('/admin');
admin.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  if (auth.role !== 'admin') return next(new Error('forbidden'));
  next();
});
admin.on('connection', (socket) => {
  reportDisconnects(socket);
  onEcho(socket);
  socket.on('whoami', (ack) => safe(ack)('/admin'));
});

io.of(/^\/dyn-\d+$/).on('connection', (socket) => {
  reportDisconnects(socket);
  onEcho(socket);
  socket.on('whoami', (ack) => safe(ack)(socket.nsp.name));
});

httpServer.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
});

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  const force = setTimeout(() => process.exit(0), 2000);
  force.unref();
  io.close(() => process.exit(0));
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// Exit when the process that started us is gone (a test run killed hard),
// so no orphan server is left listening.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) shutdown();
}, 1000).unref();
