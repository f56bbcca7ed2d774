// The lossy-network test (issue #14): official socket.io-client clients in
// their own network namespace, behind a lossy, slow link that goes down
// for a while, against sockio with connection-state recovery (server/).
// run.sh sets the namespaces, the link and the server up and runs this
// file inside the client namespace; see its header.
//
// Before T0, every client connects and gets a warm-up broadcast (an
// offset to recover from). Timeline, from the server's first tick (T0):
//   0 .. FLAP_AT              lossy link (loss and delay both ways)
//   FLAP_AT .. +FLAP_FOR      the client's link device is down
//   then                      lossy again until the last tick, and until
//                             every client has caught up (DEADLINE)
// Every client sends a numbered, acked "msg" every MSG_EVERY until
// MSG_UNTIL; the server broadcasts each to the others.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { io } from 'socket.io-client';

const env = process.env;
const URL = env.NETEM_URL;
const MODE = env.NETEM_MODE; // "tc" (kernel netem on a veth pair) or "tun" (link/)
const CLI_DEV = env.NETEM_CLI_DEV;
const SRV_NS = env.NETEM_SRV_NS;
const SRV_DEV = env.NETEM_SRV_DEV;
const LINK_STATS = env.NETEM_LINK_STATS;
const IP = env.NETEM_IP || 'ip';
const TC = env.NETEM_TC || 'tc';
const DELAY_MS = Number(env.NETEM_DELAY_MS || 200);
const CLIENTS = Number(env.NETEM_CLIENTS || 20);
const FLAP_AT = Number(env.NETEM_FLAP_AT_MS || 12000);
const FLAP_FOR = Number(env.NETEM_FLAP_FOR_MS || 5000);
// The official client's retries queue keeps one message in flight, and a
// polling client's every request is a new TCP connection over the lossy
// link: a message every 2.5 s is what the polling clients drain in time.
const MSG_EVERY = 2500;
const MSG_UNTIL = 25000;
const DEADLINE = Number(env.NETEM_DEADLINE_MS || 95000); // after T0
// The official client (4.8.1) keeps the events that arrived before a
// CONNECT answer that never came (the connection broke in between) and
// emits them on its next connect, after which the server replays them
// again from the offset the client sent: doubled events, with sockio and
// with the reference server alike. The client's offset never counted them, so dropping them on
// disconnect loses nothing. NETEM_KEEP_STALE=1 keeps them, to see it.
const DROP_STALE = env.NETEM_KEEP_STALE !== '1';
const RECONNECT_MS = Number(env.NETEM_RECONNECT_MS || 5000);
const SETTLE = 3000; // "after the flap" latencies: ticks sent this long after the link came back, live

const rel = (at, T0) => `T0${at >= T0 ? '+' : ''}${Math.round(at - T0)} ms`;
const now = () => performance.timeOrigin + performance.now(); // same clock as the server's (same host)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Three transport mixes: websocket only, polling only, and the default
// (polling, then the upgrade to websocket).
const MIXES = [
  { label: 'websocket', transports: ['websocket'] },
  { label: 'polling', transports: ['polling'] },
  { label: 'default', transports: undefined },
];

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const fmt = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
const pct = (xs) => `p50 ${fmt(quantile(xs, 0.5))}, p99 ${fmt(quantile(xs, 0.99))}, max ${fmt(Math.max(...xs))} (n=${xs.length})`;

function newClient(i) {
  const mix = MIXES[i % MIXES.length];
  const c = {
    i, name: `c${i}`, label: mix.label,
    ticks: [], // [seq, serverT, receivedAt, offset]
    msgs: new Map(), // sender -> [[n, serverT, receivedAt, offset]...] in receive order
    own: 0, // own messages received (must stay 0)
    connects: [], // {at, recovered, id}
    disconnects: [], // {at, reason, stale, offset}
    sent: [], // {n, promise, acked, dup, err}
    warm: false, // got the warm-up broadcast: it has an offset to recover from
    stale: 0, // events dropped from the receive buffer (DROP_STALE)
  };
  c.socket = io(URL, {
    forceNew: true,
    transports: mix.transports,
    // A session is kept once the server has seen the connection go; a
    // client that comes back before that gets a new socket (the reference
    // does the same). The server notices within pingInterval + pingTimeout
    // (4 s, run.sh) of the last pong, so the first attempt waits longer.
    reconnectionDelay: RECONNECT_MS,
    reconnectionDelayMax: RECONNECT_MS,
    randomizationFactor: 0,
    timeout: 10000,
    // The official client's at-least-once emits: what was not acked
    // before a disconnection is sent again on the next connection.
    retries: 20,
    ackTimeout: 10000,
  });
  const s = c.socket;
  s.on('connect', () => {
    c.connects.push({ at: now(), recovered: s.recovered, id: s.id });
  });
  s.on('disconnect', (reason) => {
    const stale = s.receiveBuffer.length;
    c.disconnects.push({ at: now(), reason, stale, offset: s._lastOffset });
    if (DROP_STALE && stale) {
      c.stale += stale;
      s.receiveBuffer = [];
    }
  });
  s.on('hello', () => { c.warm = true; });
  s.on('tick', (seq, t, offset) => {
    c.ticks.push([seq, t, now(), offset]);
    if (seq === ticksTotal.n) c.lastTickAt = now();
  });
  s.on('msg', (from, n, t, offset) => {
    if (from === c.name) c.own++;
    if (!c.msgs.has(from)) c.msgs.set(from, []);
    c.msgs.get(from).push([n, t, now(), offset]);
  });
  return c;
}

// state describes a client's socket and engine, for failure messages.
function state(c) {
  const s = c.socket;
  const e = s.io.engine;
  const q = (s._queue || []).map((p) => `${JSON.stringify(p.args.filter((a) => typeof a !== 'function'))}:try${p.tryCount}${p.pending ? ':pending' : ''}`);
  return `socket connected ${s.connected}, queue ${q.length} [${q.slice(0, 3)}], sendBuffer ${s.sendBuffer.length}, ` +
    `acks waiting [${Object.keys(s.acks)}]; manager ${s.io._readyState}, reconnecting ${!!s.io._reconnecting}; ` +
    `engine ${e ? `${e.readyState} ${e.transport && e.transport.name} writable ${e.transport && e.transport.writable} ` +
      `writeBuffer ${e.writeBuffer && e.writeBuffer.length} upgrading ${e.upgrading}` : 'none'}; ` +
    `last events: ${JSON.stringify([...c.connects.map((x) => ['connect', rel(x.at, T0ref.t), x.recovered]), ...c.disconnects.map((d) => ['disconnect', rel(d.at, T0ref.t), d.reason])].sort((a, b) => parseFloat(a[1].slice(2)) - parseFloat(b[1].slice(2))).slice(-6))}`;
}
const T0ref = { t: 0 };
const ticksTotal = { n: 0 };

function send(c, n) {
  const rec = { n, at: now(), acked: false, dup: false, err: undefined };
  rec.promise = c.socket.emitWithAck('msg', c.name, n).then(
    (res) => { rec.acked = true; rec.dup = !!(res && res.dup); c.lastAckAt = rec.ackAt = now(); },
    (err) => { rec.err = String(err && err.message || err); },
  );
  c.sent.push(rec);
}

function ip(args) {
  return execFileSync(IP, args, { encoding: 'utf8', timeout: 5000 });
}

// What the link dropped, each direction: the relay's counters (tun) or the
// netem qdiscs' (tc).
function linkStats() {
  if (MODE === 'tun') {
    const s = JSON.parse(readFileSync(LINK_STATS, 'utf8'));
    return { toServer: s.toServer, toClient: s.toClient, text: JSON.stringify(s) };
  }
  const cli = execFileSync(TC, ['-s', 'qdisc', 'show', 'dev', CLI_DEV], { encoding: 'utf8', timeout: 5000 });
  const srv = ip(['netns', 'exec', SRV_NS, TC, '-s', 'qdisc', 'show', 'dev', SRV_DEV]);
  const parse = (text) => {
    const m = /netem[\s\S]*?Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(text);
    return m ? { packets: Number(m[2]), lost: Number(m[3]) } : { packets: 0, lost: 0 };
  };
  return { toServer: parse(cli), toClient: parse(srv), text: `client side:\n${cli}server side:\n${srv}` };
}

// The official client's socket.emitWithAck with retries, for the control
// requests (made by client 0, over the same lossy link).
async function control(c, ev, ms = 20000) {
  return await Promise.race([
    c.socket.emitWithAck(ev),
    sleep(ms).then(() => { throw new Error(`${ev}: no answer in ${ms} ms`); }),
  ]);
}

describe('lossy link with connection-state recovery', () => {
  const clients = [];
  const sched = [];
  let T0 = 0;
  let ticks = 0;
  let flapDown = 0;
  let flapUp = 0;
  let serverStats;
  let link;
  let caughtUpAt = 0;

  before(async () => {
    assert.ok(URL && MODE, 'run through run.sh (NETEM_URL, NETEM_MODE unset)');
    // The link must be impaired before anything runs, or this proves nothing.
    if (MODE === 'tc') {
      assert.match(execFileSync(TC, ['qdisc', 'show', 'dev', CLI_DEV], { encoding: 'utf8' }), /netem/);
    }
    for (let i = 0; i < CLIENTS; i++) clients.push(newClient(i));
    const t = now();
    while (clients.some((c) => !c.socket.connected) && now() - t < 20000) await sleep(100);
    assert.ok(clients.every((c) => c.socket.connected),
      `not all connected after 20 s: ${clients.filter((c) => !c.socket.connected).map((c) => c.name)}`);
    console.log(`# ${CLIENTS} clients connected over the lossy link in ${fmt(now() - t)}`);

    // Warm-up: recovery needs an offset, which comes with the first event
    // a client gets (a client without one cannot be recovered, with the
    // reference too: socketio/socket.io#5538). A client that reconnected
    // before getting it has a new socket, so the broadcast is repeated.
    while (clients.some((c) => !c.warm) && now() - t < 30000) {
      await control(clients[0], 'hello', 10000);
      const t2 = now();
      while (clients.some((c) => !c.warm) && now() - t2 < 3000) await sleep(100);
    }
    assert.deepEqual(clients.filter((c) => !c.warm).map((c) => c.name), [], 'no warm-up broadcast after 30 s');

    const started = await control(clients[0], 'start');
    T0 = started.t;
    T0ref.t = T0;
    ticks = started.ticks;
    ticksTotal.n = ticks;
    const at = (ms, fn) => sched.push(setTimeout(fn, Math.max(0, T0 + ms - now())));

    // The flap: the client namespace's end of the link goes down, then up.
    at(FLAP_AT, () => {
      flapDown = now();
      for (const c of clients) c.connectedAtFlap = c.socket.connected;
      ip(['link', 'set', 'dev', CLI_DEV, 'down']);
    });
    at(FLAP_AT + FLAP_FOR, () => { ip(['link', 'set', 'dev', CLI_DEV, 'up']); flapUp = now(); });

    for (const c of clients) {
      const offset = (c.i * MSG_EVERY) / CLIENTS; // spread the senders
      c.planned = 0;
      for (let n = 1, ms = 300 + offset; ms < MSG_UNTIL; n++, ms += MSG_EVERY, c.planned++) at(ms, () => send(c, n));
    }

    // Done when every client has the last tick, every message was sent and
    // answered, and every client has every other one's acked messages.
    const done = () => clients.every((c) => {
      const last = c.ticks.at(-1);
      if (!last || last[0] !== ticks || !c.socket.connected) return false;
      if (c.sent.length !== c.planned || c.sent.some((r) => !r.acked && !r.err)) return false;
      return clients.every((o) => o === c || (c.msgs.get(o.name)?.length ?? 0) >= o.sent.filter((r) => r.acked).length);
    });
    while (!done() && now() < T0 + DEADLINE) await sleep(200);
    caughtUpAt = now();
    await sleep(1000); // anything doubled late still shows
    // Polling clients lose a ping now and then over this link, and come
    // back one reconnection delay later: "connected at the end" waits for them.
    const t1 = now();
    while (clients.some((c) => !c.socket.connected) && now() - t1 < RECONNECT_MS + 10000) await sleep(100);
    for (const c of clients) c.connectedAtEnd = c.socket.connected;
    for (const t of sched) clearTimeout(t);
    if (flapDown && !flapUp) ip(['link', 'set', 'dev', CLI_DEV, 'up']); // never leave it down

    try {
      serverStats = await control(clients[0], 'stats', 10000);
    } catch (err) {
      console.log(`# server stats: ${err.message}`);
    }
    await sleep(600); // the relay writes its counters every 500 ms
    link = linkStats();
    report();
  }, { timeout: 30000 + DEADLINE + RECONNECT_MS + 30000 });

  after(() => {
    for (const t of sched) clearTimeout(t);
    for (const c of clients) c.socket.disconnect();
  });

  function report() {
    const lossyBefore = [];
    const lossyAfter = [];
    const replayed = [];
    const byMixBefore = Object.fromEntries(MIXES.map((m) => [m.label, []]));
    const settledAt = flapUp + SETTLE;
    for (const c of clients) {
      for (const [, t, at] of c.ticks) {
        const lat = at - t;
        if (t < T0 + FLAP_AT - 4000) { // before any ping timeout of the flap can fire
          lossyBefore.push(lat);
          byMixBefore[c.label].push(lat);
        }
        else if (t > settledAt && c.connects.at(-1).at < t) lossyAfter.push(lat);
        else replayed.push(lat);
      }
    }
    const msgLat = [];
    for (const c of clients) {
      for (const list of c.msgs.values()) {
        for (const [, t, at] of list) if (t < T0 + FLAP_AT - 4000) msgLat.push(at - t);
      }
    }
    const reconnects = clients.flatMap((c) => c.connects.slice(1).map((x) => ({ ...x, c })));
    const byMix = Object.fromEntries(MIXES.map((m) => [m.label, reconnects.filter((r) => r.c.label === m.label).length]));
    // Time without a connection: from a client's "disconnect" to its next
    // "connect", for the disconnections around the flap.
    const outage = [];
    const gaps = [];
    for (const c of clients) {
      for (const d of c.disconnects) {
        const back = c.connects.find((x) => x.at > d.at);
        if (back && d.at > flapDown - 2000 && d.at < flapUp + 2000) outage.push(back.at - d.at);
      }
      // ... and as the client saw it: the longest pause between two ticks
      // received around the flap (detection time included).
      let worst = 0;
      for (let k = 1; k < c.ticks.length; k++) {
        const at = c.ticks[k][2];
        if (at > flapDown - 2000 && at < flapUp + 15000) worst = Math.max(worst, at - c.ticks[k - 1][2]);
      }
      gaps.push(worst);
    }
    const reasons = {};
    for (const c of clients) for (const d of c.disconnects) reasons[d.reason] = (reasons[d.reason] || 0) + 1;
    const sent = clients.reduce((a, c) => a + c.sent.length, 0);
    const dups = clients.reduce((a, c) => a + c.sent.filter((r) => r.dup).length, 0);
    const slowest = (key) => {
      const xs = clients.filter((c) => c[key]).sort((a, b) => b[key] - a[key]);
      return `p50 ${rel(quantile(xs.map((c) => c[key]), 0.5), T0)}, last ${xs.length ? `${rel(xs[0][key], T0)} (${xs[0].name}, ${xs[0].label})` : 'n/a'}`;
    };
    const lines = [
      `server ${env.NETEM_SERVER}, link mode ${MODE}; ${CLIENTS} clients (${MIXES.map((m) => m.label).join('/')}), ${ticks} ticks, flap ${FLAP_FOR} ms at T0+${FLAP_AT} ms`,
      `caught up ${fmt(caughtUpAt - T0)} after T0 (last tick due at ~${fmt(serverStats ? serverStats.tickDone - T0 : NaN)})`,
      `clients' last tick received: ${slowest('lastTickAt')}; last ack received: ${slowest('lastAckAt')}`,
      `slowest client's messages (n: sent -> acked): ${(() => {
        const c = clients.filter((x) => x.lastAckAt).sort((a, b) => b.lastAckAt - a.lastAckAt)[0];
        return c ? `${c.name} (${c.label}) ${c.sent.map((r) => `${r.n}: ${Math.round((r.at - T0) / 100) / 10}->${r.ackAt ? Math.round((r.ackAt - T0) / 100) / 10 : '-'} s`).join(', ')}; ` +
          `its timeline: ${timeline(c)}` : 'n/a';
      })()}`,
      `tick latency, lossy phase before the flap: ${pct(lossyBefore)}`,
      ...MIXES.map((m) => `  ${m.label} clients: ${pct(byMixBefore[m.label])}`),
      `tick latency, lossy phase after the flap (settled): ${pct(lossyAfter)}`,
      `tick latency, around the flap (replayed or delayed): ${pct(replayed)}`,
      `msg latency, lossy phase before the flap: ${pct(msgLat)}`,
      `reconnects: ${reconnects.length} (${Object.entries(byMix).map(([k, v]) => `${k} ${v}`).join(', ')}), recovered ${reconnects.filter((r) => r.recovered).length}`,
      `client disconnect reasons: ${JSON.stringify(reasons)}`,
      `time without connection around the flap (disconnect -> connect): ${pct(outage)}`,
      `longest pause between ticks around the flap: ${pct(gaps)}`,
      `messages: ${sent} sent, ${dups} resent after a disconnection and answered as duplicates by the server`,
      `events buffered by the client from a connect that never completed: ${clients.reduce((a, c) => a + c.disconnects.reduce((x, d) => x + d.stale, 0), 0)} ` +
        `(${DROP_STALE ? 'dropped' : 'kept'}), at ${clients.reduce((a, c) => a + c.disconnects.filter((d) => d.stale).length, 0)} disconnections`,
      `server: ${JSON.stringify({ ...serverStats, events: serverStats?.events?.length })}`,
      `link: ${link.text.trim()}`,
    ];
    for (const l of lines) console.log(`# ${l}`);
  }

  it('the link was lossy and slow both ways', () => {
    for (const dir of ['toServer', 'toClient']) {
      assert.ok(link[dir].packets > 1000, `${dir}: only ${link[dir].packets} packets`);
      assert.ok(link[dir].lost > 0, `${dir}: nothing lost`);
    }
    // One-way delay is a floor for every tick's latency.
    const min = Math.min(...clients.flatMap((c) => c.ticks.map(([, t, at]) => at - t)));
    assert.ok(min >= DELAY_MS - 5, `a tick arrived in ${min} ms, under the link's ${DELAY_MS} ms delay`);
  });

  it('the link went down, and every client noticed and came back', () => {
    assert.ok(flapDown && flapUp, 'the flap did not happen');
    for (const c of clients) {
      if (!c.connectedAtFlap) continue; // already reconnecting when the link went down
      assert.ok(c.disconnects.some((d) => d.at > flapDown && d.at < flapUp + 5000),
        `${c.name} (${c.label}) never disconnected around the flap: the flap did not break the connection`);
    }
  });

  // timeline tells what a client and the server saw of its connections.
  function timeline(c) {
    const ids = new Set(c.connects.map((x) => x.id));
    const ev = [
      ...c.connects.map((x) => [x.at, `client connect ${x.id} recovered=${x.recovered}`]),
      ...c.disconnects.map((d) => [d.at, `client disconnect (${d.reason}) at offset ${d.offset}${d.stale ? ` with ${d.stale} events buffered from a connect that never completed${DROP_STALE ? ', dropped' : ''}` : ''}`]),
      ...(serverStats?.events || []).filter((e) => ids.has(e.sid)).map((e) => [e.t, `server ${e.kind} ${e.sid}${e.kind === 'connect' ? ` recovered=${!!e.recovered}` : ` (${e.reason})`} after tick ${e.seq}`]),
    ].sort((a, b) => a[0] - b[0]);
    return ev.map(([at, what]) => `${rel(at, T0)} ${what}`).join('; ');
  }

  // ranges: [1,2,3,7] -> "1-3,7", each with the server's stamp of its first tick.
  function ranges(seqs) {
    const stampOf = new Map();
    for (const c of clients) for (const [s, t] of c.ticks) stampOf.set(s, t);
    const out = [];
    for (let k = 0; k < seqs.length; k++) {
      let j = k;
      while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
      const t = stampOf.get(seqs[k]);
      out.push(`${seqs[k]}${j > k ? `-${seqs[j]}` : ''} (sent ${t ? rel(t, T0) : '?'})`);
      k = j;
    }
    return out.join(', ');
  }

  it('every client got every tick exactly once and in order', () => {
    const problems = [];
    for (const c of clients) {
      const seqs = c.ticks.map(([s]) => s);
      const count = new Map();
      for (const s of seqs) count.set(s, (count.get(s) || 0) + 1);
      const missing = [];
      for (let s = 1; s <= ticks; s++) if (!count.has(s)) missing.push(s);
      const doubled = [...count].filter(([, n]) => n > 1).map(([s, n]) => `${s}x${n} (received ${c.ticks.filter(([x]) => x === s).map(([, , at, off]) => `${rel(at, T0)} offset ${off}`).join(' and ')})`);
      const disorder = [];
      for (let k = 1; k < seqs.length; k++) if (seqs[k] <= seqs[k - 1]) disorder.push(`${seqs[k - 1]}->${seqs[k]}`);
      if (missing.length || doubled.length || disorder.length || seqs.length !== ticks) {
        problems.push(`${c.name} (${c.label}): ${seqs.length}/${ticks} ticks; missing [${ranges(missing)}]; ` +
          `doubled [${doubled.slice(0, 30)}]; out of order [${disorder.slice(0, 30)}]; timeline: ${timeline(c)}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('every acked message reached every other client exactly once, in order', () => {
    const problems = [];
    for (const a of clients) {
      const failed = a.sent.filter((r) => !r.acked);
      if (failed.length) problems.push(`${a.name} (${a.label}): ${failed.length} messages never acked: ${failed.slice(0, 5).map((r) => `${r.n}: ${r.err ?? 'pending'}`)}; ${state(a)}`);
      const want = a.sent.filter((r) => r.acked).map((r) => r.n);
      for (const b of clients) {
        if (b === a) continue;
        const got = (b.msgs.get(a.name) || []).map(([n]) => n);
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          const seen = new Map();
          for (const n of got) seen.set(n, (seen.get(n) || 0) + 1);
          const stampOf = new Map();
          for (const c of clients) for (const [n, t] of c.msgs.get(a.name) || []) stampOf.set(n, t);
          const missing = want.filter((n) => !seen.has(n)).slice(0, 20).map((n) => `${n} (sent ${stampOf.has(n) ? rel(stampOf.get(n), T0) : '?'})`);
          problems.push(`${a.name} -> ${b.name} (${b.label}): got ${got.length}/${want.length}; missing [${missing}]; ` +
            `doubled [${[...seen].filter(([, k]) => k > 1).map(([n, k]) => `${n}x${k} (sent ${rel(stampOf.get(n), T0)}, received ` +
              `${(b.msgs.get(a.name) || []).filter(([x]) => x === n).map(([, , at, off]) => `${rel(at, T0)} offset ${off}`).join(' and ')})`)}]; ` +
            `order ok ${got.every((n, k) => k === 0 || n > got[k - 1])}; timeline of ${b.name}: ${timeline(b)}`);
        }
      }
    }
    for (const c of clients) if (c.own) problems.push(`${c.name} received ${c.own} of its own messages (the broadcast excludes the sender)`);
    assert.deepEqual(problems, []);
  });

  it('every reconnect within the recovery window was recovered, with the same id', () => {
    const problems = [];
    let n = 0;
    for (const c of clients) {
      for (const [k, x] of c.connects.entries()) {
        if (k === 0 || x.at < T0) continue; // the warm-up makes sure each has an offset by T0
        n++;
        if (!x.recovered) problems.push(`${c.name} (${c.label}) not recovered at ${rel(x.at, T0)}; timeline: ${timeline(c)}`);
        else if (x.id !== c.connects[k - 1].id) problems.push(`${c.name} recovered with id ${x.id}, was ${c.connects[k - 1].id}`);
      }
    }
    assert.ok(n >= CLIENTS, `only ${n} reconnects: the flap should cause one per client`);
    assert.deepEqual(problems, []);
  });

  it('every client is connected at the end', () => {
    assert.deepEqual(clients.filter((c) => !c.connectedAtEnd).map((c) => `${c.name} (${c.label}): ${state(c)}`), []);
  });
});
