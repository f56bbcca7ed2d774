// The Node.js reference server (socket.io from npm) with the part of
// test/interop/CONTRACT.md that the client tests use, so the same tests run
// against it and against sockio's contract server (test/interop/goserver).
// Flags: --port N (0 = any), --ping-interval MS, --ping-timeout MS.
// Prints "listening on 127.0.0.1:<port>" first; SIGTERM exits 0.
import { createServer } from "node:http";
import { Server } from "socket.io";

const opts = { port: 0, pingInterval: 25000, pingTimeout: 20000 };
const flags = { "--port": "port", "--ping-interval": "pingInterval", "--ping-timeout": "pingTimeout" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = flags[argv[i]];
  if (!key || !/^\d+$/.test(argv[i + 1] ?? "")) {
    process.stderr.write(`refserver: bad flag ${argv[i]} ${argv[i + 1]}\n`);
    process.exit(2);
  }
  opts[key] = Number(argv[i + 1]);
}

const httpServer = createServer();
const io = new Server(httpServer, {
  serveClient: false,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  cors: { origin: true, credentials: true },
});

function splitAck(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
  return [args, ack];
}

io.use((socket, next) => {
  if (socket.handshake.auth.token === "bad") {
    const err = new Error("unauthorized");
    err.data = { reason: "bad token" };
    return next(err);
  }
  next();
});

io.on("connection", (socket) => {
  socket.on("echo", (...all) => {
    const [args, ack] = splitAck(all);
    if (ack) ack(...args);
    else socket.emit("echo", ...args);
  });
  socket.on("handshake", (ack) =>
    ack({ query: { k: socket.handshake.query.k ?? null }, auth: socket.handshake.auth, hasAddress: socket.handshake.address !== "" }),
  );
  socket.on("ask", (spec, ack) => {
    socket.timeout(spec.timeout).emit("question", spec.payload, (err, answer) => {
      ack(err ? { err: "timeout", answer: null } : { err: null, answer });
    });
  });
  socket.on("volatile-burst", (n, ack) => {
    socket.emit("seq", { i: 0 });
    for (let k = 0; k < n; k++) socket.volatile.emit("v", { i: k });
    socket.emit("seq", { i: 1 });
    ack();
  });
  socket.on("disconnect-me", (close) => socket.disconnect(close));
});

const admin = io.of("/admin");
admin.use((socket, next) => (socket.handshake.auth.role === "admin" ? next() : next(new Error("forbidden"))));
admin.on("connection", (socket) => {
  socket.on("whoami", (ack) => ack("/admin"));
  socket.on("echo", (...all) => {
    const [args, ack] = splitAck(all);
    if (ack) ack(...args);
  });
});

httpServer.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
});
process.on("SIGTERM", () => {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
