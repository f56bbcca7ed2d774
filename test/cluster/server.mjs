// The Node.js node of the mixed-cluster tests: socket.io 4.8.1 with
// @socket.io/redis-adapter 8 (createAdapter, or createShardedAdapter when
// SHARDED=1), following CONTRACT.md.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";

const NAME = process.env.NAME || "node";
const KEY = process.env.KEY || "socket.io";
const SHARDED = process.env.SHARDED === "1";
const TIMEOUT = Number(process.env.REQUESTS_TIMEOUT || 5000);

const pub = createClient({ url: process.env.REDIS || "redis://127.0.0.1:6379" });
const sub = pub.duplicate();
pub.on("error", (err) => console.error("redis pub:", err.message));
sub.on("error", (err) => console.error("redis sub:", err.message));
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: SHARDED
    ? createShardedAdapter(pub, sub, { channelPrefix: KEY, subscriptionMode: "dynamic" })
    : createAdapter(pub, sub, { key: KEY, requestsTimeout: TIMEOUT }),
});

// Server-side events the tests send: record them, answer when asked.
const serverEvents = [];
for (const name of ["hello", "ping", "sse", "from-go", "from-node", "from-emitter"]) {
  io.on(name, (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    serverEvents.push([name, ...args]);
    if (ack) ack(`${NAME}:${name}`);
  });
}

io.on("connection", (socket) => {
  socket.data = { name: socket.handshake.auth.name, node: NAME };
  socket.on("whoami", (ack) => ack({ node: NAME, id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms].sort() }));
  socket.on("join", (room, ack) => { socket.join(room); ack?.(null); });
  socket.on("leave", (room, ack) => { socket.leave(room); ack?.(null); });
  socket.on("echo", (...args) => args.pop()(...args));
  const target = (o) => io.to(o.rooms || []).except(o.except || []);
  socket.on("broadcast", (o, ack) => {
    const args = [...(o.args || [])];
    if (o.binary) args.push(Buffer.from([1, 2, 3]));
    target(o).emit(o.event, ...args);
    ack(null);
  });
  socket.on("broadcastWithAck", async (o, ack) => {
    try {
      const res = await target(o).timeout(o.timeout).emitWithAck(o.event);
      ack({ err: null, responses: sorted(res) });
    } catch (err) {
      ack({ err: err.message, responses: sorted(err.responses || []) });
    }
  });
  socket.on("fetchSockets", async (o, ack) => {
    try {
      const socks = await target(o).fetchSockets();
      const out = socks.map((s) => ({
        id: s.id,
        rooms: [...s.rooms].sort(),
        data: s.data,
        name: s.handshake.auth.name,
        query: s.handshake.query.name,
      }));
      out.sort((a, b) => String(a.name).localeCompare(String(b.name)));
      ack(out);
    } catch (err) {
      ack({ err: err.message });
    }
  });
  socket.on("socketsJoin", (o, ack) => { target(o).socketsJoin(o.target); ack(null); });
  socket.on("socketsLeave", (o, ack) => { target(o).socketsLeave(o.target); ack(null); });
  socket.on("disconnectSockets", (o, ack) => { target(o).disconnectSockets(o.close); ack(null); });
  socket.on("serverSideEmit", (o, ack) => {
    if (!o.withAck) {
      io.serverSideEmit(o.event, ...(o.args || []));
      return ack(null);
    }
    io.serverSideEmit(o.event, ...(o.args || []), (err, res) => {
      ack({ err: err ? err.message : null, responses: sorted(res || []) });
    });
  });
  socket.on("serverCount", async (ack) => ack(await io.of("/").adapter.serverCount()));
  socket.on("allRooms", async (ack) => {
    try {
      ack([...(await io.of("/").adapter.allRooms())].sort());
    } catch (err) {
      ack(err.message);
    }
  });
  socket.on("serverEvents", (ack) => ack(serverEvents));
});

function sorted(list) {
  return [...list].sort((a, b) => String(JSON.stringify(a)).localeCompare(String(JSON.stringify(b))));
}

// The adapter subscribes when "/" is created (above); the tests wait for
// every node to count the others before they start.
httpServer.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`READY ${httpServer.address().port}`);
});

process.on("SIGTERM", () => {
  io.close();
  Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0));
});
