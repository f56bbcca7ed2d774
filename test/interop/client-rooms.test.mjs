// Rooms: membership, join/leave, targeted emits with rooms and except,
// broadcast to all, socketsJoin, and volatile emits.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, targets } from './server.mjs';
import {
  transportSets, tname, closeAll, stopServer, connect, ack, emitWithAck, collect, sleep, rand, withTimeout, observer,
} from './lib/client-helpers.mjs';

const T = { timeout: 10000 };

// QUIET is how long a client that should get nothing is watched.
const QUIET = 150;

for (const target of targets) {
  describe(`[${target}] rooms`, () => {
    let server;
    before(async () => { server = await startServer(target); });
    after(() => stopServer(server));
    afterEach(() => closeAll());

    for (const transports of transportSets) {
      const name = `[${target}] [${tname(transports)}]`;

      // clients A..D with a fresh pair of rooms: A∈r1, B∈r1,r2, C∈r2, D∈none.
      async function setup() {
        const r1 = `r1-${rand()}`;
        const r2 = `r2-${rand()}`;
        const c = {};
        for (const k of ['A', 'B', 'C', 'D']) c[k] = await connect(server.url, { transports });
        await ack(c.A, 'join', [r1]);
        await ack(c.B, 'join', [r1]);
        await ack(c.B, 'join', [r2]);
        await ack(c.C, 'join', [r2]);
        return { c, r1, r2 };
      }

      // sendTo asks the server (from sender) to emit `event` per spec and
      // checks exactly who got it, once each, with the given args.
      async function sendTo(c, sender, spec, expected) {
        const event = `ev-${rand()}`;
        const args = ['p', { n: 1, list: [1, 2] }];
        const got = {};
        for (const k of Object.keys(c)) got[k] = collect(c[k], event);
        await ack(c[sender], 'to', [{ rooms: [], except: [], ...spec, event, args }]);
        // wait until every expected receiver has it, then a quiet period
        await withTimeout((async () => {
          while (!expected.every((k) => got[k].length > 0)) await sleep(10);
        })(), 2000, `delivery to ${expected.join(',')}`);
        await sleep(QUIET);
        const who = Object.keys(c).filter((k) => got[k].length > 0).sort();
        assert.deepEqual(who, [...expected].sort(), `receivers of ${JSON.stringify(spec)}`);
        for (const k of expected) assert.deepEqual(got[k], [args], `${k} got it exactly once`);
      }

      it(`${name} "rooms" lists only the own id at first; join and leave change it`, T, async () => {
        const sock = await connect(server.url, { transports });
        assert.deepEqual(await emitWithAck(sock, 'rooms'), [sock.id]);
        await ack(sock, 'join', ['zz-room']);
        await ack(sock, 'join', ['aa-room']);
        await ack(sock, 'join', ['aa-room']); // joining twice is harmless
        assert.deepEqual(await emitWithAck(sock, 'rooms'), ['aa-room', sock.id, 'zz-room'].sort());
        await ack(sock, 'leave', ['zz-room']);
        await ack(sock, 'leave', ['never-joined']); // leaving a room one is not in is harmless
        assert.deepEqual(await emitWithAck(sock, 'rooms'), ['aa-room', sock.id].sort());
        await ack(sock, 'leave', ['aa-room']);
        assert.deepEqual(await emitWithAck(sock, 'rooms'), [sock.id]);
      });

      it(`${name} emit to one room reaches exactly its members`, T, async () => {
        const { c, r1, r2 } = await setup();
        await sendTo(c, 'D', { rooms: [r1] }, ['A', 'B']);
        await sendTo(c, 'A', { rooms: [r2] }, ['B', 'C']);
      });

      it(`${name} emit to two rooms reaches their union, each socket once`, T, async () => {
        const { c, r1, r2 } = await setup();
        await sendTo(c, 'D', { rooms: [r1, r2] }, ['A', 'B', 'C']);
      });

      it(`${name} rooms with except`, T, async () => {
        const { c, r1, r2 } = await setup();
        await sendTo(c, 'D', { rooms: [r1, r2], except: [r2] }, ['A']);
        await sendTo(c, 'D', { rooms: [r1], except: [c.B.id] }, ['A']);
        await sendTo(c, 'D', { rooms: [r2], except: [r1] }, ['C']);
        await sendTo(c, 'D', { rooms: [r1, r2], except: [r1, r2] }, []);
      });

      it(`${name} a socket id works as a room`, T, async () => {
        const { c } = await setup();
        await sendTo(c, 'A', { rooms: [c.C.id] }, ['C']);
        await sendTo(c, 'A', { rooms: [c.C.id, c.D.id] }, ['C', 'D']);
      });

      it(`${name} broadcast to all (no rooms), with and without except`, T, async () => {
        const { c, r1 } = await setup();
        await sendTo(c, 'A', {}, ['A', 'B', 'C', 'D']);
        await sendTo(c, 'A', { except: [r1] }, ['C', 'D']);
        await sendTo(c, 'B', { except: [c.D.id] }, ['A', 'B', 'C']);
      });

      it(`${name} emit to a room nobody is in reaches nobody`, T, async () => {
        const { c } = await setup();
        await sendTo(c, 'A', { rooms: [`empty-${rand()}`] }, []);
      });

      it(`${name} after leave the room no longer reaches the socket`, T, async () => {
        const { c, r1 } = await setup();
        await ack(c.B, 'leave', [r1]);
        await sendTo(c, 'D', { rooms: [r1] }, ['A']);
      });

      it(`${name} a disconnected socket leaves its rooms`, T, async () => {
        const obs = await observer(server.url);
        const { c, r1 } = await setup();
        const idA = c.A.id;
        c.A.disconnect();
        await obs.gone(idA);
        const rest = { B: c.B, C: c.C, D: c.D };
        await sendTo(rest, 'D', { rooms: [r1] }, ['B']);
      });

      it(`${name} binary arguments reach every receiver`, T, async () => {
        const { c, r1 } = await setup();
        const event = `bin-${rand()}`;
        const gotA = collect(c.A, event);
        const gotB = collect(c.B, event);
        await ack(c.D, 'to', [{ rooms: [r1], event, args: [Buffer.from([1, 2, 3]), { b: Buffer.from('xyz') }] }]);
        await withTimeout((async () => { while (gotA.length + gotB.length < 2) await sleep(10); })(), 2000, 'binary delivery');
        for (const got of [gotA, gotB]) {
          assert.equal(got.length, 1);
          assert.deepEqual([...got[0][0]], [1, 2, 3]);
          assert.equal(Buffer.from(got[0][1].b).toString(), 'xyz');
        }
      });

      it(`${name} "socketsJoin" makes every socket join; "sockets" lists them`, T, async () => {
        const { c } = await setup();
        const room = `all-${rand()}`;
        await ack(c.A, 'socketsJoin', [room]);
        for (const k of ['A', 'B', 'C', 'D']) {
          assert.ok((await emitWithAck(c[k], 'rooms')).includes(room), `${k} is in ${room}`);
        }
        const ids = await emitWithAck(c.A, 'sockets');
        for (const k of ['A', 'B', 'C', 'D']) assert.ok(ids.includes(c[k].id), `${k} listed`);
        assert.deepEqual(ids, [...ids].sort());
        await sendTo(c, 'A', { rooms: [room] }, ['A', 'B', 'C', 'D']);
      });

      it(`${name} unicode room and event names`, T, async () => {
        const room = `部屋-😀-${rand()}`;
        const a = await connect(server.url, { transports });
        const b = await connect(server.url, { transports });
        await ack(a, 'join', [room]);
        assert.deepEqual(await emitWithAck(a, 'rooms'), [a.id, room].sort());
        const event = `ëvent-中-😀-${rand()}`;
        const gotA = collect(a, event);
        const gotB = collect(b, event);
        await ack(b, 'to', [{ rooms: [room], event, args: ['ü', { '键': '值' }] }]);
        await withTimeout((async () => { while (!gotA.length) await sleep(10); })(), 2000, 'delivery');
        await sleep(QUIET);
        assert.deepEqual(gotA, [['ü', { '键': '值' }]]);
        assert.deepEqual(gotB, []);
      });

      it(`${name} 10 broadcasts to 12 clients: each client gets each once, in order`, T, async () => {
        const room = `many-${rand()}`;
        const socks = [];
        for (let i = 0; i < 12; i++) {
          // mix the transports: every client of this set plus some websocket ones
          const s = await connect(server.url, { transports: i % 3 === 0 ? ['websocket'] : transports });
          await ack(s, 'join', [room]);
          socks.push(s);
        }
        const event = `b-${rand()}`;
        const got = socks.map((s) => collect(s, event));
        await Promise.all(Array.from({ length: 10 }, (_, k) => ack(socks[k % 3], 'to', [{ rooms: [room], event, args: [k] }])));
        await withTimeout((async () => { while (!got.every((g) => g.length >= 10)) await sleep(10); })(), 4000, 'all broadcasts');
        await sleep(QUIET);
        for (const g of got) {
          const ks = g.map(([k]) => k);
          assert.deepEqual([...ks].sort((x, y) => x - y), Array.from({ length: 10 }, (_, k) => k), 'each once');
        }
        // broadcasts requested by the same sender keep their order everywhere
        for (const g of got) {
          for (let sender = 0; sender < 3; sender++) {
            const ks = g.map(([k]) => k).filter((k) => k % 3 === sender);
            assert.deepEqual(ks, [...ks].sort((x, y) => x - y), `order of sender ${sender}'s broadcasts`);
          }
        }
      });

      it(`${name} volatile burst: seq in order, volatile packets in order and never twice`, T, async () => {
        const sock = await connect(server.url, { transports });
        const log = [];
        sock.on('seq', (m) => log.push(['seq', m.i]));
        sock.on('v', (m) => log.push(['v', m.i]));
        await ack(sock, 'volatile-burst', [50]);
        await withTimeout((async () => {
          while (!log.some(([t, i]) => t === 'seq' && i === 1)) await sleep(10);
        })(), 2000, 'seq 1');
        await sleep(100);
        const seq = log.filter(([t]) => t === 'seq').map(([, i]) => i);
        assert.deepEqual(seq, [0, 1]);
        // every v arrives between seq 0 and seq 1
        const first = log.findIndex(([t]) => t === 'seq');
        const last = log.findLastIndex(([t]) => t === 'seq');
        const vs = log.filter(([t]) => t === 'v').map(([, i]) => i);
        assert.deepEqual(log.slice(first + 1, last).map(([, i]) => i), vs, 'v packets only between the seq packets');
        for (let k = 1; k < vs.length; k++) assert.ok(vs[k] > vs[k - 1], `increasing: ${vs}`);
        for (const v of vs) assert.ok(Number.isInteger(v) && v >= 0 && v < 50);
        assert.ok(vs.length <= 50);
      });

      it(`${name} volatile emit through "to" reaches a connected client`, T, async () => {
        const sock = await connect(server.url, { transports });
        const event = `vol-${rand()}`;
        const got = collect(sock, event);
        await ack(sock, 'to', [{ rooms: [sock.id], event, args: [1], volatile: true }]);
        await sleep(200);
        // a volatile packet may be dropped, but never duplicated
        assert.ok(got.length <= 1);
        for (const g of got) assert.deepEqual(g, [1]);
      });
    }
  });
}
