// Reads the JSON lines of bench/cluster.sh and prints its markdown tables:
// medians over the repeats with the min-max spread.
//   node bench/node-cluster/report.mjs raw.jsonl [machine.txt]
import { readFileSync } from 'node:fs';

const [rawPath, machinePath] = process.argv.slice(2);
if (!rawPath) {
  process.stderr.write('usage: report.mjs raw.jsonl [machine.txt]\n');
  process.exit(2);
}
const lines = readFileSync(rawPath, 'utf8').split('\n').filter((l) => l.trim());
const results = lines.map((l) => JSON.parse(l));

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// num prints 3 significant digits, thousands grouped.
const num = (v) => {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a === 0) return '0';
  return Number(v.toPrecision(3)).toString();
};
// stat is "median (min–max)" over the repeats, or the one value.
const stat = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x));
  if (!s.length) return '–';
  if (s.length === 1) return num(s[0]);
  return `${num(median(s))} (${num(Math.min(...s))}–${num(Math.max(...s))})`;
};
const out = [];
const p = (s = '') => out.push(s);

// Part 1: the ladders. A run is the steps of one configuration from step 0.
const runs = new Map(); // config -> [[step results]]
for (const r of results) {
  if (r.scenario !== 'crossnode' || r.params.step === undefined) continue;
  if (!runs.has(r.target)) runs.set(r.target, []);
  const rs = runs.get(r.target);
  if (r.params.step === 0 || !rs.length) rs.push([]);
  rs[rs.length - 1].push(r);
}
const m = (r, k) => (r ? r.metrics[k] : NaN);
if (runs.size) {
  const first = [...runs.values()][0][0][0];
  const n = first.params.n;
  const firstRate = first.params.rate;
  p(`### Cross-node broadcast: ${n} clients on node B, the sender on node A`);
  p();
  p(`Broadcast to all (\`io.emit\`, ${first.params.size}-byte payload), the rate doubled from ${firstRate}/s until saturation; ` +
    `at most ${first.params.window} broadcasts in flight. Peak: the step with the most deliveries/s in each run. ` +
    `CPU: milliseconds of CPU (user + system, /proc/<pid>/stat) per 1000 deliveries over the measured window. ` +
    `Core 0 softirq: the kernel's loopback delivery of what node B writes, charged to no process (/proc/stat). ` +
    `Others on core 0: the core's busy time minus node B's and the softirq time: what other users of this shared machine ran there. ` +
    `Median (min–max) over ${Math.max(...[...runs.values()].map((v) => v.length))} run(s).`);
  p();
  p('| configuration | peak deliveries/s | at broadcasts/s | p50 ms | p99 ms | CPU ms / 1000 deliveries: node B | node A | broker | node B CPU % | core 0 softirq % | others on core 0 % | load generator CPU % | core 1 busy % | stopped because |');
  p('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [cfg, rs] of runs) {
    const peaks = rs.map((steps) => steps.reduce((a, b) => ((m(b, 'delivered_per_s') || 0) > (m(a, 'delivered_per_s') || 0) ? b : a)));
    const why = rs.map((steps) => {
      const last = steps[steps.length - 1];
      const note = (last.notes || []).find((x) => x.startsWith('saturated: ') || x.startsWith('ladder stopped'));
      return note ? note.replace('saturated: ', '') : 'ran out of steps';
    });
    const others0 = peaks.map((r) => Math.max(0, m(r, 'core0_busy_pct') - m(r, 'server_cpu_pct') - m(r, 'core0_softirq_pct')));
    p(`| ${cfg} | ${stat(peaks.map((r) => m(r, 'delivered_per_s')))} | ${stat(peaks.map((r) => m(r, 'broadcasts_per_s')))} | ` +
      `${stat(peaks.map((r) => m(r, 'fanout_p50_ms')))} | ${stat(peaks.map((r) => m(r, 'fanout_p99_ms')))} | ` +
      `${stat(peaks.map((r) => m(r, 'server_cpu_us_per_delivery')))} | ${stat(peaks.map((r) => m(r, 'a_cpu_us_per_delivery')))} | ` +
      `${stat(peaks.map((r) => m(r, 'broker_cpu_us_per_delivery')))} | ${stat(peaks.map((r) => m(r, 'server_cpu_pct')))} | ` +
      `${stat(peaks.map((r) => m(r, 'core0_softirq_pct')))} | ${stat(others0)} | ${stat(peaks.map((r) => m(r, 'client_cpu_pct')))} | ` +
      `${stat(peaks.map((r) => m(r, 'core1_busy_pct')))} | ${[...new Set(why)].join('; ')} |`);
  }
  p();
  p(`Light load: the first step (${firstRate} broadcasts/s, ${num(firstRate * n)} deliveries/s), and one lone broadcast until all ${n} clients have it.`);
  p();
  p('| configuration | p50 ms | p99 ms | CPU ms / 1000 deliveries: node B | node A | broker | lone broadcast to all, p50 ms | p99 ms |');
  p('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [cfg, rs] of runs) {
    const s0 = rs.map((steps) => steps[0]);
    p(`| ${cfg} | ${stat(s0.map((r) => m(r, 'fanout_p50_ms')))} | ${stat(s0.map((r) => m(r, 'fanout_p99_ms')))} | ` +
      `${stat(s0.map((r) => m(r, 'server_cpu_us_per_delivery')))} | ${stat(s0.map((r) => m(r, 'a_cpu_us_per_delivery')))} | ` +
      `${stat(s0.map((r) => m(r, 'broker_cpu_us_per_delivery')))} | ${stat(s0.map((r) => m(r, 'single_all_p50_ms')))} | ` +
      `${stat(s0.map((r) => m(r, 'single_all_p99_ms')))} |`);
  }
  const gen = [...runs.values()].flat(2).filter((r) => m(r, 'client_cpu_pct') > 90);
  p();
  if (gen.length) {
    p(`The load generator used more than 90% of its core in ${gen.length} step(s) ` +
      `(${[...new Set(gen.map((r) => `${r.target} at ${r.params.rate}/s`))].join(', ')}): there its own limit may be the figure.`);
  } else {
    p('The load generator stayed below 90% of its core in every step.');
  }
  const lost = [...runs.values()].flat(2).filter((r) => m(r, 'lost') > 0);
  if (lost.length) {
    p(`Deliveries were lost in ${lost.length} step(s): ${lost.map((r) => `${r.target} at ${r.params.rate}/s: ${num(m(r, 'lost'))}`).join(', ')}.`);
  }
  p();
}

// Part 2: the cost of recovery (crossnode without steps).
const cost = new Map();
for (const r of results) {
  if (r.scenario !== 'crossnode' || r.params.step !== undefined) continue;
  if (!cost.has(r.target)) cost.set(r.target, []);
  cost.get(r.target).push(r);
}
const stores = new Map();
for (const r of results) {
  if (r.scenario !== 'store') continue;
  if (!stores.has(r.target)) stores.set(r.target, []);
  stores.get(r.target).push(r);
}
if (cost.size) {
  const any = [...cost.values()][0][0];
  p(`### Cost of connection-state recovery: ${any.params.n} clients on node B, ${any.params.rate} broadcasts/s from node A`);
  p();
  p('CPU per broadcast (per event kept, with recovery on) of each process, in microseconds; bytes per event: what the broker holds ' +
    '(Redis `MEMORY USAGE` of the stream over `XLEN`; JetStream stream bytes over messages) after the run. ' +
    'Redis Streams adapters write every broadcast to the stream whether recovery is on or not (the stream is their transport).');
  p();
  p('| configuration | broadcasts/s | p50 ms | p99 ms | CPU µs / event: node A | node B | broker | sum | bytes / event in the broker |');
  p('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [cfg, rs] of cost) {
    const sum = rs.map((r) => (m(r, 'a_cpu_us_per_broadcast') || 0) + (m(r, 'server_cpu_us_per_broadcast') || 0) + (m(r, 'broker_cpu_us_per_broadcast') || 0));
    const st = stores.get(cfg) || [];
    p(`| ${cfg} | ${stat(rs.map((r) => m(r, 'broadcasts_per_s')))} | ${stat(rs.map((r) => m(r, 'fanout_p50_ms')))} | ` +
      `${stat(rs.map((r) => m(r, 'fanout_p99_ms')))} | ${stat(rs.map((r) => m(r, 'a_cpu_us_per_broadcast')))} | ` +
      `${stat(rs.map((r) => m(r, 'server_cpu_us_per_broadcast')))} | ${stat(rs.map((r) => m(r, 'broker_cpu_us_per_broadcast')))} | ` +
      `${stat(sum)} | ${st.length ? stat(st.map((r) => r.metrics.bytes_per_event)) : '–'} |`);
  }
  p();
}

// Part 3: recovery through the other node.
const rec = new Map();
for (const r of results) {
  if (r.scenario !== 'recover') continue;
  const k = `${r.target}\u0000${r.params.k}`;
  if (!rec.has(k)) rec.set(k, []);
  rec.get(k).push(r);
}
if (rec.size) {
  p('### Recovery through the other node');
  p();
  p('A client on node B gets one event (its offset), drops its TCP connection, misses K events broadcast from node A ' +
    '(a witness client on B sees each go through the broker), then connects to node A with its pid and offset. ' +
    'Recovered: it got its socket id back. Connect: WebSocket upgrade to the CONNECT answer. Recovery: to the last missed event ' +
    '(both servers send the missed events before the CONNECT answer). "log=1000": the log bounded to 1000 events ' +
    '(redis-streams maxLen, JetStream MaxMsgs); "queue=16384": sockio with MaxBufferedPackets 16384 instead of 8192.');
  p();
  p('| configuration | K | recovered | events back | connect ms | recovery ms | replayed events/s |');
  p('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [k, rs] of rec) {
    const [cfg, K] = k.split('\u0000');
    const ok = rs.filter((r) => m(r, 'recovered') === 1).length;
    const closed = rs.filter((r) => m(r, 'closed_during_replay') === 1).length;
    p(`| ${cfg} | ${num(Number(K))} | ${ok} of ${rs.length}${closed ? ` (${closed} closed during the replay)` : ''} | ${stat(rs.map((r) => m(r, 'missed_received')))} | ` +
      `${stat(rs.map((r) => m(r, 'connect_ms')))} | ${stat(rs.map((r) => m(r, 'recovery_ms')))} | ` +
      `${stat(rs.map((r) => m(r, 'replayed_per_s')))} |`);
  }
  const bad = results.filter((r) => r.scenario === 'recover' && (m(r, 'duplicates') > 0 || m(r, 'out_of_order') > 0 || m(r, 'other_events') > 0));
  if (bad.length) {
    p();
    p(`Duplicates, out-of-order or unexpected events in ${bad.length} recovery(ies): ` +
      bad.map((r) => `${r.target} K=${r.params.k}: ${m(r, 'duplicates')} dup, ${m(r, 'out_of_order')} out of order, ${m(r, 'other_events')} other`).join('; '));
  }
  p();
}

const loads = results.flatMap((r) => r.loadavg || []).filter((x) => x >= 0);
if (loads.length) {
  p(`Load average (1 min) over the results: ${num(Math.min(...loads))}–${num(Math.max(...loads))}; ` +
    'above 2, other work shared the cores and the figures are noisier.');
  p();
}

if (machinePath) {
  p('<details><summary>machine</summary>');
  p();
  p('```');
  p(readFileSync(machinePath, 'utf8').trim());
  p('```');
  p('</details>');
}
process.stdout.write(out.join('\n') + '\n');
