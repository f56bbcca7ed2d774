// The Node.js node of the Redis Streams mixed-cluster test: socket.io
// 4.8.1 with @socket.io/redis-streams-adapter 0.3 and connection-state
// recovery; the same events as gostreams (KEY names the stream, the
// channel prefix and the session key prefix).
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";

const NAME = process.env.NAME || "node";
const KEY = process.env.KEY || "socket.io";
const client = createClient({ url: process.env.REDIS || "redis://127.0.0.1:6379" });
client.on("error", (err) => console.error("redis:", err.message));
await client.connect();

const httpServer = createServer();
const io = new Server(httpServer, {
  adapter: createAdapter(client, { streamName: KEY, channelPrefix: KEY, sessionKeyPrefix: `${KEY}:session:` }),
  connectionStateRecovery: { maxDisconnectionDuration: 30000 },
});
io.on("ping", (...args) => args.pop()(`${NAME}:ping`));

const sorted = (l) => [...l].sort((a, b) => String(a).localeCompare(String(b)));
io.on("connection", (socket) => {
  if (!socket.recovered) socket.data = { name: socket.handshake.auth.name, node: NAME };
  socket.on("whoami", (ack) => ack({ node: NAME, id: socket.id, recovered: socket.recovered }));
  socket.on("join", (room, ack) => { socket.join(room); ack(null); });
  socket.on("drop", () => socket.conn.close());
  socket.on("broadcast", (o, ack) => {
    const args = [...(o.args || [])];
    if (o.binary) args.push(Buffer.from([1, 2, 3]));
    io.to(o.rooms || []).emit(o.event, ...args);
    ack(null);
  });
  socket.on("broadcastWithAck", async (o, ack) => {
    try {
      ack({ err: null, responses: sorted(await io.to(o.rooms || []).timeout(o.timeout).emitWithAck(o.event)) });
    } catch (err) {
      ack({ err: err.message, responses: sorted(err.responses || []) });
    }
  });
  socket.on("fetchSockets", async (o, ack) => {
    try {
      ack(sorted((await io.to(o.rooms || []).fetchSockets()).map((s) => s.id)));
    } catch (err) {
      ack({ err: err.message });
    }
  });
  socket.on("serverSideEmit", (o, ack) => {
    io.serverSideEmit(o.event, ...(o.args || []), (err, res) => ack({ err: err ? err.message : null, responses: sorted(res || []) }));
  });
  socket.on("serverCount", async (ack) => ack(await io.of("/").adapter.serverCount()));
});

httpServer.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`READY ${httpServer.address().port}`);
});
process.on("SIGTERM", () => {
  io.close();
  client.quit().finally(() => process.exit(0));
});
