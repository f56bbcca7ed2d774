// The reference server for the lossy-network test: Node.js socket.io with
// connectionStateRecovery, following the same contract as server/ (see its
// doc comment). run.sh uses it with NETEM_SERVER=reference, to tell what
// the network and the official client do from what sockio does.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const opt = {
  addr: '127.0.0.1:0', ticks: 1200, every: 25, 'ping-interval': 1000, 'ping-timeout': 3000, recovery: 120000, middleware: 0,
};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^-+/, '');
  if (!(k in opt)) throw new Error(`unknown flag ${process.argv[i]}`);
  opt[k] = k === 'addr' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}

const stamp = () => performance.timeOrigin + performance.now();
const http = createServer();
const io = new Server(http, {
  pingInterval: opt['ping-interval'],
  pingTimeout: opt['ping-timeout'],
  connectionStateRecovery: {
    maxDisconnectionDuration: opt.recovery,
    skipMiddlewares: process.env.NETEM_REF_SKIP_MIDDLEWARES !== 'false',
  },
});
// As server/'s -middleware; recovered sockets skip it here unless
// NETEM_REF_SKIP_MIDDLEWARES=false (the reference's default skips them).
if (opt.middleware > 0) io.use((socket, next) => setTimeout(next, opt.middleware));
const st = { started: 0, lastSeq: 0, tickDone: 0, msgs: 0, dups: 0, fresh: 0, recovered: 0, reasons: {}, events: [] };
const seen = new Set();

function start() {
  if (st.started) return;
  st.started = stamp();
  const timer = setInterval(() => {
    st.lastSeq++;
    io.emit('tick', st.lastSeq, stamp());
    if (st.lastSeq === opt.ticks) {
      clearInterval(timer);
      st.tickDone = stamp();
    }
  }, opt.every);
}

io.on('connection', (socket) => {
  if (socket.recovered) st.recovered++;
  else st.fresh++;
  st.events.push({ sid: socket.id, kind: 'connect', recovered: socket.recovered, t: stamp(), seq: st.lastSeq });
  socket.on('disconnect', (reason) => {
    st.reasons[reason] = (st.reasons[reason] || 0) + 1;
    st.events.push({ sid: socket.id, kind: 'disconnect', reason, t: stamp(), seq: st.lastSeq });
  });
  socket.on('hello', (ack) => {
    io.emit('hello');
    ack(true);
  });
  socket.on('start', (ack) => {
    start();
    ack({ ticks: opt.ticks, every: opt.every, t: st.started });
  });
  socket.on('msg', (from, n, ack) => {
    const key = `${from}/${n}`;
    const dup = seen.has(key);
    if (dup) st.dups++;
    else {
      seen.add(key);
      st.msgs++;
      socket.broadcast.emit('msg', from, n, stamp());
    }
    ack({ dup });
  });
  socket.on('stats', (ack) => ack({ ...st, sockets: io.of('/').sockets.size }));
});

const [host, port] = [opt.addr.slice(0, opt.addr.lastIndexOf(':')), Number(opt.addr.slice(opt.addr.lastIndexOf(':') + 1))];
http.listen(port, host, () => {
  const a = http.address();
  console.log(`READY ${a.address}:${a.port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { io.close(); process.exit(0); });
