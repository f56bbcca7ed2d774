// sockio browser client: the Socket.IO v5 / Engine.IO v4 client protocol,
// with the subset of the socket.io-client API that applications use.
//
// This file is plain script code with no import or export: the server wraps
// it at serve time, as a classic script that defines the global `io`
// (/socket.io/socket.io.js) and as an ES module (/socket.io/socket.io.esm.js).
// It runs in browsers and in Node.js >= 20 (fetch, and WebSocket where the
// runtime has one).

const protocol = 5;

// ---------------------------------------------------------------- emitter

// Emitter is a small event emitter. Socket overrides emit() to send events
// to the server, so internal events always go through emitReserved().
class Emitter {
  constructor() {
    this._callbacks = new Map();
  }

  on(event, fn) {
    let list = this._callbacks.get(event);
    if (!list) this._callbacks.set(event, (list = []));
    list.push(fn);
    return this;
  }

  addEventListener(event, fn) {
    return this.on(event, fn);
  }

  once(event, fn) {
    const wrapper = (...args) => {
      this.off(event, wrapper);
      fn.apply(this, args);
    };
    wrapper.fn = fn;
    return this.on(event, wrapper);
  }

  off(event, fn) {
    if (event === undefined) {
      this._callbacks.clear();
      return this;
    }
    const list = this._callbacks.get(event);
    if (!list) return this;
    if (fn === undefined) {
      this._callbacks.delete(event);
      return this;
    }
    const i = list.findIndex((cb) => cb === fn || cb.fn === fn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this._callbacks.delete(event);
    return this;
  }

  removeListener(event, fn) {
    return this.off(event, fn);
  }

  removeAllListeners(event) {
    return this.off(event);
  }

  removeEventListener(event, fn) {
    return this.off(event, fn);
  }

  emitReserved(event, ...args) {
    const list = this._callbacks.get(event);
    if (list) for (const fn of list.slice()) fn.apply(this, args);
    return this;
  }

  listeners(event) {
    return (this._callbacks.get(event) || []).slice();
  }

  hasListeners(event) {
    return this.listeners(event).length > 0;
  }
}

// subscribe registers fn and returns the function that removes it.
function subscribe(emitter, event, fn) {
  emitter.on(event, fn);
  return () => emitter.off(event, fn);
}

// ------------------------------------------------------ engine.io packets

const EIO_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
const EIO_CODES = Object.fromEntries(EIO_TYPES.map((t, i) => [t, String(i)]));
const RECORD_SEPARATOR = "\x1e";

// isBinary: ArrayBuffer and its views travel as binary attachments. Blob is
// not supported (reading it is asynchronous); send blob.arrayBuffer().
function isBinary(v) {
  return typeof ArrayBuffer !== "undefined" && (v instanceof ArrayBuffer || ArrayBuffer.isView(v));
}

function toUint8(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function base64Encode(data) {
  const bytes = toUint8(data);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function base64Decode(str) {
  const s = atob(str);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes.buffer;
}

// encodeEnginePacket returns what goes on the wire for one packet: binary
// messages are raw frames on WebSocket and "b" + base64 on polling.
function encodeEnginePacket(packet, forWebSocket) {
  if (isBinary(packet.data)) {
    if (forWebSocket) return packet.data;
    return "b" + base64Encode(packet.data);
  }
  return EIO_CODES[packet.type] + (packet.data === undefined ? "" : String(packet.data));
}

function decodeEnginePacket(data) {
  if (typeof data !== "string") return { type: "message", data };
  if (data.charAt(0) === "b") {
    try {
      return { type: "message", data: base64Decode(data.slice(1)) };
    } catch (err) {
      return { type: "error", data: "parser error" }; // not base64
    }
  }
  const type = EIO_TYPES[Number(data.charAt(0))];
  if (!type) return { type: "error", data: "parser error" };
  return data.length > 1 ? { type, data: data.slice(1) } : { type };
}

// randomString makes the cache-busting "t" query parameter of polling.
function randomString() {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}

function encodeQuery(query) {
  const parts = [];
  for (const key of Object.keys(query)) {
    if (query[key] === undefined || query[key] === null) continue;
    parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(query[key]));
  }
  return parts.join("&");
}

function parseQuery(str) {
  const out = {};
  if (!str) return out;
  for (const part of str.replace(/^\?/, "").split("&")) {
    if (!part) continue;
    const [k, v = ""] = part.split("=");
    out[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, " "));
  }
  return out;
}

// -------------------------------------------------------------- transports

class TransportError extends Error {
  constructor(reason, description, context) {
    super(reason);
    this.type = "TransportError";
    this.description = description;
    this.context = context;
  }
}

// Transport is what the two transports share: state, URL, packet decoding.
class Transport extends Emitter {
  constructor(opts) {
    super();
    this.opts = opts;
    this.query = Object.assign({}, opts.query);
    this.readyState = "";
    this.writable = false;
  }

  open() {
    this.readyState = "opening";
    this.doOpen();
    return this;
  }

  close() {
    if (this.readyState === "opening" || this.readyState === "open") {
      this.doClose();
      this.onClose();
    }
    return this;
  }

  send(packets) {
    if (this.readyState === "open") this.write(packets);
  }

  onOpen() {
    this.readyState = "open";
    this.writable = true;
    this.emitReserved("open");
  }

  onPacket(packet) {
    this.emitReserved("packet", packet);
  }

  onError(reason, description, context) {
    this.emitReserved("error", new TransportError(reason, description, context));
    return this;
  }

  onClose(details) {
    this.readyState = "closed";
    this.emitReserved("close", details);
  }

  pause(onPause) {
    onPause();
  }

  uri(schema, query) {
    const o = this.opts;
    const defaultPort = o.secure ? "443" : "80";
    const port = o.port && String(o.port) !== defaultPort ? ":" + o.port : "";
    const host = o.hostname.indexOf(":") >= 0 ? "[" + o.hostname + "]" : o.hostname;
    const qs = encodeQuery(query);
    return schema + "://" + host + port + o.path + (qs ? "?" + qs : "");
  }
}

// Polling is HTTP long-polling over fetch: one GET waiting for packets at a
// time, one POST carrying ours at a time.
class Polling extends Transport {
  get name() {
    return "polling";
  }

  constructor(opts) {
    super(opts);
    this.polling = false;
    this.aborts = new Set();
  }

  doOpen() {
    this.poll();
  }

  // pause waits for the pending GET and POST to end, so the upgrade to
  // WebSocket loses and duplicates nothing.
  pause(onPause) {
    this.readyState = "pausing";
    const pause = () => {
      this.readyState = "paused";
      onPause();
    };
    if (!this.polling && this.writable) {
      pause();
      return;
    }
    let total = 0;
    const done = () => {
      if (--total === 0) pause();
    };
    if (this.polling) {
      total++;
      this.once("pollComplete", done);
    }
    if (!this.writable) {
      total++;
      this.once("drain", done);
    }
  }

  poll() {
    this.polling = true;
    this.request("GET").then(
      (text) => {
        if (text !== null) this.onData(text);
      },
      (err) => this.onError("xhr poll error", err),
    );
    this.emitReserved("poll");
  }

  onData(text) {
    for (const chunk of text.split(RECORD_SEPARATOR)) {
      const packet = decodeEnginePacket(chunk);
      if (this.readyState === "opening" && packet.type === "open") this.onOpen();
      if (packet.type === "close") {
        this.onClose({ description: "transport closed by the server" });
        return;
      }
      this.onPacket(packet);
    }
    if (this.readyState === "closed") return;
    this.polling = false;
    this.emitReserved("pollComplete");
    if (this.readyState === "open") this.poll();
  }

  doClose() {
    const close = () => this.write([{ type: "close" }]);
    if (this.readyState === "open") close();
    else this.once("open", close);
    // The pending GET is answered by the server once it sees the close
    // packet; nothing more will be read from it.
  }

  write(packets) {
    this.writable = false;
    const body = packets.map((p) => encodeEnginePacket(p, false)).join(RECORD_SEPARATOR);
    this.request("POST", body).then(
      () => {
        this.writable = true;
        this.emitReserved("drain");
      },
      (err) => this.onError("xhr post error", err),
    );
  }

  // request sends one HTTP request; it resolves to the body (null when the
  // transport was closed meanwhile) and rejects on a network or HTTP error.
  async request(method, body) {
    const query = Object.assign({}, this.query, { EIO: "4", transport: "polling" });
    if (this.opts.timestampRequests !== false) query[this.opts.timestampParam || "t"] = randomString();
    const url = this.uri(this.opts.secure ? "https" : "http", query);
    const ctrl = typeof AbortController !== "undefined" ? new AbortController() : null;
    if (ctrl) this.aborts.add(ctrl);
    const init = {
      method,
      cache: "no-store",
      credentials: this.opts.withCredentials ? "include" : "same-origin",
      signal: ctrl ? ctrl.signal : undefined,
    };
    if (body !== undefined) {
      init.body = body;
      init.headers = { "Content-Type": "text/plain;charset=UTF-8" };
    }
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      if (!res.ok) throw new Error("HTTP " + res.status + ": " + text);
      return this.readyState === "closed" ? null : text;
    } catch (err) {
      if (this.readyState === "closed") return null;
      throw err;
    } finally {
      if (ctrl) this.aborts.delete(ctrl);
    }
  }

  onClose(details) {
    super.onClose(details);
    // Abort the pending GET a little later: the close packet's POST must
    // leave first, and the connection limit per host is small.
    const aborts = Array.from(this.aborts);
    setTimeout(() => aborts.forEach((c) => c.abort()), 1000);
  }
}

// WS is the WebSocket transport; each Engine.IO packet is one frame.
class WS extends Transport {
  get name() {
    return "websocket";
  }

  doOpen() {
    const WebSocketImpl = this.opts.WebSocket || (typeof WebSocket !== "undefined" ? WebSocket : null);
    if (!WebSocketImpl) {
      this.onError("websocket error", "WebSocket is not available in this runtime");
      return;
    }
    const query = Object.assign({}, this.query, { EIO: "4", transport: "websocket" });
    if (this.opts.timestampRequests) query[this.opts.timestampParam || "t"] = randomString();
    try {
      this.ws = new WebSocketImpl(this.uri(this.opts.secure ? "wss" : "ws", query), this.opts.protocols);
    } catch (err) {
      this.emitReserved("error", err);
      return;
    }
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => this.onOpen();
    this.ws.onclose = (ev) =>
      this.onClose({ description: "websocket connection closed", context: ev });
    this.ws.onmessage = (ev) => this.onPacket(decodeEnginePacket(ev.data));
    this.ws.onerror = (ev) => this.onError("websocket error", ev);
  }

  write(packets) {
    this.writable = false;
    for (const p of packets) {
      try {
        this.ws.send(encodeEnginePacket(p, true));
      } catch (err) {
        // The close event follows and reports the failure.
      }
    }
    // Let the browser take the frames before the next flush.
    setTimeout(() => {
      this.writable = true;
      this.emitReserved("drain");
    }, 0);
  }

  doClose() {
    if (this.ws) {
      this.ws.onerror = () => {};
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }
}

// ------------------------------------------------------------ webtransport

// WebTransport carries Engine.IO packets on one bidirectional stream, each
// behind a length header shaped like a WebSocket frame's (engine.io-parser's
// packet stream): one byte whose top bit says binary and whose low 7 bits
// are the length, or 126 and a 16-bit length, or 127 and a 64-bit length,
// big-endian. A text packet's payload is its UTF-8 text form, a binary
// message's its raw bytes.

const textEncoder = typeof TextEncoder !== "undefined" ? new TextEncoder() : null;
const textDecoder = typeof TextDecoder !== "undefined" ? new TextDecoder() : null;

function encodeStreamFrame(packet) {
  // An empty frame is refused (engine.io-parser's decoder stream too): an
  // empty binary message goes as text, "b" and no base64.
  const binary = isBinary(packet.data) && packet.data.byteLength > 0;
  const payload = binary ? toUint8(packet.data) : textEncoder.encode(encodeEnginePacket(packet, false));
  const n = payload.byteLength;
  const top = binary ? 0x80 : 0;
  let head;
  if (n < 126) {
    head = Uint8Array.of(top | n);
  } else if (n < 0x10000) {
    head = Uint8Array.of(top | 126, n >>> 8, n & 0xff);
  } else {
    head = new Uint8Array(9);
    head[0] = top | 127;
    const view = new DataView(head.buffer);
    view.setUint32(1, Math.floor(n / 0x100000000));
    view.setUint32(5, n >>> 0);
  }
  const frame = new Uint8Array(head.length + n);
  frame.set(head);
  frame.set(payload, head.length);
  return frame;
}

// StreamFrames cuts the bytes of the stream, in whatever chunks they come,
// into packets. It keeps the chunks as they are until a frame is complete,
// so a large frame is copied once.
class StreamFrames {
  constructor() {
    this.chunks = [];
    this.size = 0;
    this.want = -1; // payload length of the frame whose header was read
    this.binary = false;
  }

  // push adds a chunk and returns the packets it completed; it throws on a
  // frame no client could hold or an empty text frame.
  push(chunk) {
    if (chunk.byteLength) {
      this.chunks.push(chunk);
      this.size += chunk.byteLength;
    }
    const packets = [];
    for (let p = this.next(); p; p = this.next()) packets.push(p);
    return packets;
  }

  next() {
    if (this.want < 0) {
      if (this.size < 1) return null;
      const first = this.chunks[0][0];
      const n = first & 0x7f;
      const headLen = n === 126 ? 3 : n === 127 ? 9 : 1;
      if (this.size < headLen) return null;
      const head = this.take(headLen);
      const view = new DataView(head.buffer);
      this.binary = (first & 0x80) !== 0;
      if (n === 126) this.want = view.getUint16(1);
      else if (n === 127) {
        const high = view.getUint32(1);
        // Above 2^53 the length is no exact number; no real frame gets near.
        if (high > 0x1fffff) throw new Error("webtransport frame too long");
        this.want = high * 0x100000000 + view.getUint32(5);
      } else this.want = n;
    }
    if (this.size < this.want) return null;
    const payload = this.take(this.want);
    this.want = -1;
    if (this.binary) return { type: "message", data: payload.buffer };
    if (payload.byteLength === 0) throw new Error("webtransport empty text frame");
    return decodeEnginePacket(textDecoder.decode(payload));
  }

  // take removes the first n bytes (n <= size) into a new array.
  take(n) {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      const k = Math.min(c.byteLength, n - off);
      out.set(k === c.byteLength ? c : c.subarray(0, k), off);
      off += k;
      if (k === c.byteLength) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.size -= n;
    return out;
  }
}

function webTransportImpl(opts) {
  return opts.WebTransport || (typeof WebTransport === "function" ? WebTransport : null);
}

// WT is the WebTransport transport (HTTP/3): always https to the same host
// and port, options (serverCertificateHashes…) from
// transportOptions.webtransport. The client opens the one stream and sends
// the open packet on it: "0" for a new session, 0{"sid":…} to probe the
// upgrade of a polling session.
class WT extends Transport {
  get name() {
    return "webtransport";
  }

  doOpen() {
    const Impl = webTransportImpl(this.opts);
    if (!Impl) {
      this.onError("webtransport error", "WebTransport is not available in this runtime");
      return;
    }
    const query = Object.assign({}, this.query, { EIO: "4", transport: "webtransport" });
    if (this.opts.timestampRequests) query[this.opts.timestampParam || "t"] = randomString();
    const options = (this.opts.transportOptions && this.opts.transportOptions.webtransport) || undefined;
    let session;
    try {
      session = new Impl(this.uri("https", query), options);
    } catch (err) {
      this.onError("webtransport error", err);
      return;
    }
    this.session = session;
    session.closed.then(
      () => this.end(session, null),
      (err) => this.end(session, err),
    );
    session.ready
      .then(() => session.createBidirectionalStream())
      .then(
        (stream) => this.onStream(session, stream),
        (err) => this.end(session, err),
      );
  }

  onStream(session, stream) {
    if (this.session !== session) {
      stream.writable.abort().catch(() => {});
      return;
    }
    this.writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const frames = new StreamFrames();
    const read = () =>
      reader.read().then(
        ({ done, value }) => {
          if (this.session !== session) return;
          if (done) {
            this.end(session, null);
            return;
          }
          let packets;
          try {
            packets = frames.push(value);
          } catch (err) {
            this.end(session, err);
            return;
          }
          for (const p of packets) {
            if (this.session !== session) return;
            this.onPacket(p);
          }
          read();
        },
        (err) => this.end(session, err),
      );
    read();
    const open = { type: "open" };
    if (this.query.sid) open.data = JSON.stringify({ sid: this.query.sid });
    this.writer.write(encodeStreamFrame(open)).catch((err) => this.end(session, err));
    // Writes keep their order: what is sent from here follows the open
    // packet, and the server's answer cannot come before it.
    this.onOpen();
  }

  write(packets) {
    const session = this.session;
    const writer = this.writer;
    if (!writer) return; // the session ended; its close is on the way
    this.writable = false;
    let last = null;
    for (const p of packets) {
      if (last) last.catch(() => {}); // the last one reports the failure
      last = writer.write(encodeStreamFrame(p));
    }
    // Resolves once the stream took the frames: the flow control of QUIC
    // is the back pressure of the write buffer.
    last.then(
      () => {
        if (this.session !== session) return;
        this.writable = true;
        this.emitReserved("drain");
      },
      (err) => this.end(session, err),
    );
  }

  // end reports the end of session once: an error (the network, the
  // server refusing the session, a bad frame) or a close.
  end(session, err) {
    if (this.session !== session) return;
    this.session = null;
    this.writer = null;
    try {
      session.close();
    } catch (e) {
      // Already closed.
    }
    if (err) this.onError("webtransport error", err);
    else this.onClose({ description: "webtransport session closed" });
  }

  doClose() {
    const session = this.session;
    const writer = this.writer;
    this.session = null;
    this.writer = null;
    if (!session) return;
    // Closing the session drops what the server has not read yet (a
    // Socket.IO disconnect written just before): end our stream instead;
    // the server reads to its end and closes the session. The timer is for
    // a server that does not.
    const close = () => {
      try {
        session.close();
      } catch (e) {
        // Already closed.
      }
    };
    if (!writer) {
      close();
      return;
    }
    writer.close().catch(close);
    setTimeout(close, 2000);
  }
}

const TRANSPORTS = { polling: Polling, websocket: WS, webtransport: WT };

// -------------------------------------------------------- engine.io socket

// EngineSocket is one Engine.IO connection: handshake, heartbeat, the
// write buffer, and the upgrade from polling to WebSocket.
class EngineSocket extends Emitter {
  constructor(uri, opts) {
    super();
    const u = new URL(uri);
    this.secure = opts.secure !== undefined ? opts.secure : u.protocol === "https:" || u.protocol === "wss:";
    this.hostname = opts.hostname || u.hostname.replace(/^\[|\]$/g, "");
    this.port = opts.port || u.port || (this.secure ? "443" : "80");
    // WebTransport only when the page asks for it and the browser has it.
    this.transports = (opts.transports || ["polling", "websocket"]).filter(
      (t) => TRANSPORTS[t] && (t !== "webtransport" || webTransportImpl(opts)),
    );
    this.opts = Object.assign(
      { path: "/engine.io", upgrade: true, timestampParam: "t", withCredentials: false },
      opts,
    );
    this.opts.path = this.opts.path.replace(/\/$/, "") + "/";
    this.query = typeof opts.query === "string" ? parseQuery(opts.query) : Object.assign({}, opts.query);
    this.id = null;
    this.upgrades = [];
    this.writeBuffer = [];
    this.prevBufferLen = 0;
    this.upgrading = false;
    this.upgradeNow = null; // set while an upgrade waits for polling to pause
    this.pingInterval = 0;
    this.pingTimeout = 0;
    this.pingTimer = null;
    this.pingDeadline = 0;
    this.maxPayload = 0;
    this.readyState = "opening";

    // A lost network is noticed at once instead of after the ping timeout.
    if (typeof addEventListener === "function") {
      this.offlineListener = () =>
        this.onClose("transport close", { description: "network connection lost" });
      addEventListener("offline", this.offlineListener, false);
    }
    this.open();
  }

  createTransport(name) {
    const query = Object.assign({}, this.query);
    if (this.id) query.sid = this.id;
    return new TRANSPORTS[name](
      Object.assign({}, this.opts, {
        query,
        hostname: this.hostname,
        port: this.port,
        secure: this.secure,
      }),
    );
  }

  open() {
    if (this.transports.length === 0) {
      setTimeout(() => this.emitReserved("error", new Error("No transports available")), 0);
      return;
    }
    const transport = this.createTransport(this.transports[0]);
    transport.open();
    this.setTransport(transport);
  }

  setTransport(transport) {
    if (this.transport) this.transport.removeAllListeners();
    this.transport = transport;
    transport
      .on("drain", () => this.onDrain())
      .on("packet", (p) => this.onPacket(p))
      .on("error", (e) => this.onError(e))
      .on("close", (d) => this.onClose("transport close", d));
  }

  onOpen() {
    this.readyState = "open";
    this.emitReserved("open");
    this.flush();
    if (this.readyState === "open" && this.opts.upgrade && this.transport.name === "polling") {
      for (const name of this.upgrades) this.probe(name);
    }
  }

  // probe opens the better transport beside the current one, checks it with
  // a ping "probe", then pauses polling and switches.
  probe(name) {
    let transport = this.createTransport(name);
    let failed = false;
    const cleanup = () => {
      transport.off("open", onTransportOpen);
      transport.off("error", onError);
      transport.off("close", onTransportClose);
      this.off("close", onClose);
      this.off("upgrading", onUpgrade);
    };
    const freeze = () => {
      if (failed) return;
      failed = true;
      this.upgradeNow = null;
      cleanup();
      transport.close();
      transport = null;
    };
    const onError = (err) => {
      const error = new Error("probe error: " + (err && err.message ? err.message : err));
      error.transport = transport && transport.name;
      freeze();
      this.emitReserved("upgradeError", error);
    };
    const onTransportClose = () => onError("transport closed");
    const onClose = () => onError("socket closed");
    const onUpgrade = (to) => {
      if (transport && to.name !== transport.name) freeze();
    };
    const onTransportOpen = () => {
      if (failed) return;
      transport.send([{ type: "ping", data: "probe" }]);
      transport.once("packet", (msg) => {
        if (failed) return;
        if (msg.type !== "pong" || msg.data !== "probe") {
          onError("unexpected probe answer");
          return;
        }
        this.upgrading = true;
        this.emitReserved("upgrading", transport);
        const upgrade = () => {
          if (failed || !transport || this.readyState === "closed") return;
          cleanup();
          this.upgradeNow = null;
          this.setTransport(transport);
          // What waited for the upgrade leaves with its packet, in this
          // turn: a page going away (close() from pagehide) gets no other.
          // No POST is in flight (pause and upgradeNow wait for it), so
          // nothing sent before can arrive after.
          const waiting = this.writeBuffer.length;
          transport.send([{ type: "upgrade" }, ...this.writeBuffer]);
          this.prevBufferLen = waiting;
          this.emitReserved("upgrade", transport);
          transport = null;
          this.upgrading = false;
          if (waiting) this.emitReserved("flush");
        };
        // close() may not wait for the pause (see there).
        const polling = this.transport;
        this.upgradeNow = () => (polling.writable ? upgrade() : polling.once("drain", upgrade));
        polling.pause(upgrade);
      });
    };
    transport.once("open", onTransportOpen);
    transport.once("error", onError);
    transport.once("close", onTransportClose);
    this.once("close", onClose);
    this.once("upgrading", onUpgrade);
    transport.open();
  }

  onPacket(packet) {
    if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") return;
    this.emitReserved("packet", packet);
    this.emitReserved("heartbeat");
    switch (packet.type) {
      case "open":
        this.onHandshake(JSON.parse(packet.data));
        break;
      case "ping":
        this.resetPingTimeout();
        this.sendPacket("pong");
        this.emitReserved("ping");
        this.emitReserved("pong");
        break;
      case "error": {
        const err = new Error("server error");
        err.code = packet.data;
        this.onError(err);
        break;
      }
      case "message":
        this.emitReserved("data", packet.data);
        this.emitReserved("message", packet.data);
        break;
    }
  }

  onHandshake(data) {
    this.emitReserved("handshake", data);
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    this.upgrades = (data.upgrades || []).filter((u) => this.transports.includes(u));
    this.pingInterval = data.pingInterval;
    this.pingTimeout = data.pingTimeout;
    this.maxPayload = data.maxPayload;
    this.onOpen();
    if (this.readyState === "closed") return;
    this.resetPingTimeout();
  }

  // resetPingTimeout arms the heartbeat deadline: the server pings every
  // pingInterval, and a connection silent longer than that plus
  // pingTimeout is dead.
  resetPingTimeout() {
    clearTimeout(this.pingTimer);
    const delay = this.pingInterval + this.pingTimeout;
    this.pingDeadline = Date.now() + delay;
    this.pingTimer = setTimeout(() => this.onClose("ping timeout"), delay);
  }

  // hasPingExpired catches a deadline missed while timers were throttled
  // (a background tab, a sleeping laptop).
  hasPingExpired() {
    if (!this.pingDeadline) return false;
    if (Date.now() <= this.pingDeadline) return false;
    this.pingDeadline = 0;
    setTimeout(() => this.onClose("ping timeout"), 0);
    return true;
  }

  onDrain() {
    this.writeBuffer.splice(0, this.prevBufferLen);
    this.prevBufferLen = 0;
    if (this.writeBuffer.length === 0) this.emitReserved("drain");
    else this.flush();
  }

  flush() {
    if (this.readyState === "closed" || !this.transport.writable || this.upgrading || !this.writeBuffer.length) {
      return;
    }
    const packets = this.writablePackets();
    this.transport.send(packets);
    this.prevBufferLen = packets.length;
    this.emitReserved("flush");
  }

  // writablePackets keeps one polling POST under the server's maxPayload.
  writablePackets() {
    if (!(this.maxPayload && this.transport.name === "polling" && this.writeBuffer.length > 1)) {
      return this.writeBuffer;
    }
    let size = 1;
    for (let i = 0; i < this.writeBuffer.length; i++) {
      const data = this.writeBuffer[i].data;
      if (data) size += typeof data === "string" ? utf8Length(data) : Math.ceil(toUint8(data).byteLength * 1.34);
      if (i > 0 && size > this.maxPayload) return this.writeBuffer.slice(0, i);
      size += 2;
    }
    return this.writeBuffer;
  }

  write(data, options, fn) {
    this.sendPacket("message", data, options, fn);
    return this;
  }

  send(data, options, fn) {
    return this.write(data, options, fn);
  }

  sendPacket(type, data, options, fn) {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const packet = { type, data, options: options || {} };
    this.emitReserved("packetCreate", packet);
    this.writeBuffer.push(packet);
    if (fn) this.once("flush", fn);
    this.flush();
  }

  close() {
    const close = () => {
      this.onClose("forced close");
      this.transport.close();
    };
    const waitForUpgrade = () => {
      const done = () => {
        this.off("upgrade", done);
        this.off("upgradeError", done);
        close();
      };
      this.once("upgrade", done);
      this.once("upgradeError", done);
    };
    if (this.readyState === "opening" || this.readyState === "open") {
      this.readyState = "closing";
      // Probed and pausing the poll: switch now, so the goodbye goes out
      // on the websocket. Waiting for the pending GET loses it when the
      // page is going away (pagehide): the server has then answered that
      // GET, sees the probe close and keeps the session, silent, on
      // polling until its ping timeout. Whatever the GET still brings is
      // not needed by a closing socket; the server answers it with a noop.
      if (this.upgradeNow) this.upgradeNow();
      if (this.writeBuffer.length) {
        this.once("drain", () => (this.upgrading ? waitForUpgrade() : close()));
      } else if (this.upgrading) {
        waitForUpgrade();
      } else {
        close();
      }
    }
    return this;
  }

  onError(err) {
    this.emitReserved("error", err);
    this.onClose("transport error", err);
  }

  onClose(reason, description) {
    if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") return;
    clearTimeout(this.pingTimer);
    this.transport.removeAllListeners("close");
    this.transport.close();
    this.transport.removeAllListeners();
    if (this.offlineListener && typeof removeEventListener === "function") {
      removeEventListener("offline", this.offlineListener, false);
    }
    this.readyState = "closed";
    this.id = null;
    this.emitReserved("close", reason, description);
    this.writeBuffer = [];
    this.prevBufferLen = 0;
  }
}

function utf8Length(str) {
  let n = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c < 0xd800 || c >= 0xe000) n += 3;
    else {
      i++;
      n += 4;
    }
  }
  return n;
}

// ------------------------------------------------------ socket.io packets

const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
};

function hasBinary(obj, depth = 0) {
  if (!obj || typeof obj !== "object" || depth > 100) return false;
  if (isBinary(obj)) return true;
  if (Array.isArray(obj)) return obj.some((v) => hasBinary(v, depth + 1));
  return Object.keys(obj).some((k) => hasBinary(obj[k], depth + 1));
}

// deconstruct replaces binary values with placeholders, collecting them.
function deconstruct(data, buffers) {
  if (isBinary(data)) {
    const placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(data);
    return placeholder;
  }
  if (Array.isArray(data)) return data.map((v) => deconstruct(v, buffers));
  if (data && typeof data === "object" && !(data instanceof Date)) {
    const out = {};
    for (const k of Object.keys(data)) out[k] = deconstruct(data[k], buffers);
    return out;
  }
  return data;
}

function reconstruct(data, buffers) {
  if (!data || typeof data !== "object") return data;
  if (data._placeholder === true) {
    if (typeof data.num === "number" && data.num >= 0 && data.num < buffers.length) return buffers[data.num];
    throw new Error("illegal attachments");
  }
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) data[i] = reconstruct(data[i], buffers);
  } else {
    for (const k of Object.keys(data)) data[k] = reconstruct(data[k], buffers);
  }
  return data;
}

// encodePacket returns the Engine.IO messages of one Socket.IO packet: a
// string, then the binary attachments.
function encodePacket(packet) {
  let type = packet.type;
  let data = packet.data;
  const buffers = [];
  if ((type === PacketType.EVENT || type === PacketType.ACK) && hasBinary(data)) {
    type = type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
    data = deconstruct(data, buffers);
  }
  let str = String(type);
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) str += buffers.length + "-";
  if (packet.nsp && packet.nsp !== "/") str += packet.nsp + ",";
  if (packet.id !== undefined && packet.id !== null) str += packet.id;
  if (data !== undefined) str += JSON.stringify(data);
  return [str].concat(buffers);
}

function isValidPayload(type, payload) {
  switch (type) {
    case PacketType.CONNECT:
      return payload === undefined || (payload !== null && typeof payload === "object");
    case PacketType.DISCONNECT:
      return payload === undefined;
    case PacketType.CONNECT_ERROR:
      return typeof payload === "string" || (payload !== null && typeof payload === "object");
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      return (
        Array.isArray(payload) &&
        (typeof payload[0] === "number" || (typeof payload[0] === "string" && !RESERVED_EVENTS.has(payload[0])))
      );
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      return Array.isArray(payload);
  }
  return false;
}

function decodeString(str) {
  let i = 0;
  const packet = { type: Number(str.charAt(0)) };
  if (!(packet.type >= 0 && packet.type <= 6)) throw new Error("unknown packet type " + packet.type);
  if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
    const start = i + 1;
    while (str.charAt(++i) !== "-" && i < str.length);
    const n = str.substring(start, i);
    if (!/^\d+$/.test(n) || str.charAt(i) !== "-") throw new Error("illegal attachments");
    packet.attachments = Number(n);
  }
  if (str.charAt(i + 1) === "/") {
    const start = i + 1;
    while (++i < str.length && str.charAt(i) !== ",");
    packet.nsp = str.substring(start, i);
  } else {
    packet.nsp = "/";
  }
  if (/\d/.test(str.charAt(i + 1))) {
    const start = i + 1;
    while (/\d/.test(str.charAt(i + 1))) i++;
    packet.id = Number(str.substring(start, i + 1));
  }
  if (str.charAt(++i)) {
    let payload;
    try {
      payload = JSON.parse(str.substr(i));
    } catch (e) {
      throw new Error("invalid payload");
    }
    if (!isValidPayload(packet.type, payload)) throw new Error("invalid payload");
    packet.data = payload;
  }
  return packet;
}

// Decoder turns Engine.IO messages into Socket.IO packets, waiting for the
// attachments of binary packets.
class Decoder extends Emitter {
  add(obj) {
    if (typeof obj === "string") {
      if (this.pending) throw new Error("got plaintext data when reconstructing a packet");
      const packet = decodeString(obj);
      if ((packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) && packet.attachments > 0) {
        this.pending = { packet, buffers: [] };
        return;
      }
      this.emitReserved("decoded", packet);
      return;
    }
    if (!this.pending) throw new Error("got binary data when not reconstructing a packet");
    this.pending.buffers.push(obj);
    if (this.pending.buffers.length === this.pending.packet.attachments) {
      const { packet, buffers } = this.pending;
      this.pending = null;
      packet.data = reconstruct(packet.data, buffers);
      this.emitReserved("decoded", packet);
    }
  }

  destroy() {
    this.pending = null;
  }
}

// ----------------------------------------------------------------- backoff

// Backoff gives exponential reconnection delays with jitter, so that many
// clients do not come back at the same instant after a server restart.
class Backoff {
  constructor(opts) {
    this.ms = opts.min || 100;
    this.max = opts.max || 10000;
    this.factor = opts.factor || 2;
    this.jitter = opts.jitter > 0 && opts.jitter <= 1 ? opts.jitter : 0;
    this.attempts = 0;
  }

  duration() {
    let ms = this.ms * Math.pow(this.factor, this.attempts++);
    if (this.jitter) {
      const rand = Math.random();
      const deviation = Math.floor(rand * this.jitter * ms);
      ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
    }
    return Math.min(ms, this.max) | 0;
  }

  reset() {
    this.attempts = 0;
  }
}

// ----------------------------------------------------------------- manager

// Manager owns one Engine.IO connection, shared by the sockets of its
// namespaces, and reconnects it.
class Manager extends Emitter {
  constructor(uri, opts) {
    super();
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = Object.assign({}, opts);
    opts.path = opts.path || "/socket.io";
    this.uri = uri || defaultOrigin();
    this.opts = opts;
    this.nsps = {};
    this.subs = [];
    this.reconnection(opts.reconnection !== false);
    this.reconnectionAttempts(opts.reconnectionAttempts || Infinity);
    this.reconnectionDelay(opts.reconnectionDelay || 1000);
    this.reconnectionDelayMax(opts.reconnectionDelayMax || 5000);
    this.randomizationFactor(opts.randomizationFactor == null ? 0.5 : opts.randomizationFactor);
    this.backoff = new Backoff({
      min: this._reconnectionDelay,
      max: this._reconnectionDelayMax,
      jitter: this._randomizationFactor,
    });
    this.timeout(opts.timeout == null ? 20000 : opts.timeout);
    this._readyState = "closed";
    this._reconnecting = false;
    this.skipReconnect = false;
    this.decoder = new Decoder();
    this._autoConnect = opts.autoConnect !== false;
    if (this._autoConnect) this.open();
  }

  reconnection(v) {
    if (!arguments.length) return this._reconnection;
    this._reconnection = !!v;
    if (!v) this.skipReconnect = true;
    return this;
  }

  reconnectionAttempts(v) {
    if (v === undefined) return this._reconnectionAttempts;
    this._reconnectionAttempts = v;
    return this;
  }

  reconnectionDelay(v) {
    if (v === undefined) return this._reconnectionDelay;
    this._reconnectionDelay = v;
    if (this.backoff) this.backoff.ms = v;
    return this;
  }

  reconnectionDelayMax(v) {
    if (v === undefined) return this._reconnectionDelayMax;
    this._reconnectionDelayMax = v;
    if (this.backoff) this.backoff.max = v;
    return this;
  }

  randomizationFactor(v) {
    if (v === undefined) return this._randomizationFactor;
    this._randomizationFactor = v;
    if (this.backoff) this.backoff.jitter = v;
    return this;
  }

  timeout(v) {
    if (!arguments.length) return this._timeout;
    this._timeout = v;
    return this;
  }

  maybeReconnectOnOpen() {
    if (!this._reconnecting && this._reconnection && this.backoff.attempts === 0) this.reconnect();
  }

  open(fn) {
    if (this._readyState.indexOf("open") >= 0) return this;
    this.engine = new EngineSocket(this.uri, this.opts);
    const socket = this.engine;
    this._readyState = "opening";
    this.skipReconnect = false;
    const openSub = subscribe(socket, "open", () => {
      this.onopen();
      if (fn) fn();
    });
    const onError = (err) => {
      this.cleanup();
      this._readyState = "closed";
      this.emitReserved("error", err);
      if (fn) fn(err);
      else this.maybeReconnectOnOpen();
    };
    const errorSub = subscribe(socket, "error", onError);
    if (this._timeout !== false) {
      const timer = setTimeout(() => {
        openSub();
        onError(new Error("timeout"));
        socket.close();
      }, this._timeout);
      this.subs.push(() => clearTimeout(timer));
    }
    this.subs.push(openSub, errorSub);
    return this;
  }

  connect(fn) {
    return this.open(fn);
  }

  onopen() {
    this.cleanup();
    this._readyState = "open";
    this.emitReserved("open");
    const socket = this.engine;
    this.subs.push(
      subscribe(socket, "ping", () => this.emitReserved("ping")),
      subscribe(socket, "data", (data) => this.ondata(data)),
      subscribe(socket, "error", (err) => this.emitReserved("error", err)),
      subscribe(socket, "close", (reason, description) => this.onclose(reason, description)),
      subscribe(this.decoder, "decoded", (packet) => this.emitReserved("packet", packet)),
    );
  }

  ondata(data) {
    try {
      this.decoder.add(data);
    } catch (err) {
      this.onclose("parse error", err);
    }
  }

  socket(nsp, opts) {
    let socket = this.nsps[nsp];
    if (!socket) {
      socket = new Socket(this, nsp, opts);
      this.nsps[nsp] = socket;
    } else if (this._autoConnect && !socket.active) {
      socket.connect();
    }
    return socket;
  }

  // _destroy closes the connection once no namespace uses it.
  _destroy() {
    for (const nsp of Object.keys(this.nsps)) {
      if (this.nsps[nsp].active) return;
    }
    this._close();
  }

  _packet(packet) {
    const encoded = encodePacket(packet);
    for (const chunk of encoded) this.engine.write(chunk, packet.options);
  }

  cleanup() {
    this.subs.forEach((unsubscribe) => unsubscribe());
    this.subs.length = 0;
    this.decoder.destroy();
  }

  _close() {
    this.skipReconnect = true;
    this._reconnecting = false;
    this.onclose("forced close");
  }

  disconnect() {
    return this._close();
  }

  close() {
    return this._close();
  }

  onclose(reason, description) {
    this.cleanup();
    if (this.engine) this.engine.close();
    this.backoff.reset();
    this._readyState = "closed";
    this.emitReserved("close", reason, description);
    if (this._reconnection && !this.skipReconnect) this.reconnect();
  }

  reconnect() {
    if (this._reconnecting || this.skipReconnect) return this;
    if (this.backoff.attempts >= this._reconnectionAttempts) {
      this.backoff.reset();
      this.emitReserved("reconnect_failed");
      this._reconnecting = false;
      return this;
    }
    const delay = this.backoff.duration();
    this._reconnecting = true;
    const timer = setTimeout(() => {
      if (this.skipReconnect) return;
      this.emitReserved("reconnect_attempt", this.backoff.attempts);
      if (this.skipReconnect) return;
      this.open((err) => {
        if (err) {
          this._reconnecting = false;
          this.reconnect();
          this.emitReserved("reconnect_error", err);
        } else {
          this.onreconnect();
        }
      });
    }, delay);
    this.subs.push(() => clearTimeout(timer));
    return this;
  }

  onreconnect() {
    const attempt = this.backoff.attempts;
    this._reconnecting = false;
    this.backoff.reset();
    this.emitReserved("reconnect", attempt);
  }
}

// ------------------------------------------------------------------ socket

const RESERVED_EVENTS = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

// Socket is one namespace of a Manager's connection: events, acks, and the
// buffers that hold what is sent and received while disconnected.
class Socket extends Emitter {
  constructor(io, nsp, opts) {
    super();
    opts = opts || {};
    this.io = io;
    this.nsp = nsp;
    this.connected = false;
    this.recovered = false;
    this.receiveBuffer = [];
    this.sendBuffer = [];
    this.ids = 0;
    this.acks = {};
    this.flags = {};
    this._anyListeners = [];
    this._anyOutgoingListeners = [];
    this._opts = opts;
    if (opts.auth) this.auth = opts.auth;
    if (io._autoConnect) this.open();
  }

  get disconnected() {
    return !this.connected;
  }

  get active() {
    return !!this.subs;
  }

  subEvents() {
    if (this.subs) return;
    const io = this.io;
    this.subs = [
      subscribe(io, "open", () => this.onopen()),
      subscribe(io, "packet", (p) => this.onpacket(p)),
      subscribe(io, "error", (err) => this.onerror(err)),
      subscribe(io, "close", (reason, description) => this.onclose(reason, description)),
    ];
  }

  connect() {
    if (this.connected) return this;
    this.subEvents();
    if (!this.io._reconnecting) this.io.open();
    if (this.io._readyState === "open") this.onopen();
    return this;
  }

  open() {
    return this.connect();
  }

  send(...args) {
    return this.emit("message", ...args);
  }

  // emit sends an event; a function as last argument asks the server for an
  // acknowledgement. While disconnected the packet waits in sendBuffer,
  // unless it is volatile.
  emit(event, ...args) {
    if (RESERVED_EVENTS.has(event)) throw new Error('"' + String(event) + '" is a reserved event name');
    args.unshift(event);
    const packet = { type: PacketType.EVENT, data: args };
    packet.options = { compress: this.flags.compress !== false };
    if (typeof args[args.length - 1] === "function") {
      const id = this.ids++;
      const ack = args.pop();
      this._registerAckCallback(id, ack);
      packet.id = id;
    }
    const engine = this.io.engine;
    const writable = !!(engine && engine.transport && engine.transport.writable);
    const connected = this.connected && !(engine && engine.hasPingExpired());
    if (this.flags.volatile && !writable) {
      // dropped, as volatile allows
    } else if (connected) {
      this.notifyOutgoing(packet);
      this.packet(packet);
    } else {
      this.sendBuffer.push(packet);
    }
    this.flags = {};
    return this;
  }

  _registerAckCallback(id, ack) {
    const timeout = this.flags.timeout !== undefined ? this.flags.timeout : this._opts.ackTimeout;
    if (timeout === undefined) {
      this.acks[id] = ack;
      return;
    }
    const timer = setTimeout(() => {
      delete this.acks[id];
      this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    const fn = (...args) => {
      clearTimeout(timer);
      ack.apply(this, args);
    };
    fn.withError = true;
    this.acks[id] = fn;
  }

  // emitWithAck resolves with the server's first acknowledgement argument.
  emitWithAck(event, ...args) {
    return new Promise((resolve, reject) => {
      const fn = (err, res) => (err ? reject(err) : resolve(res));
      fn.withError = true;
      args.push(fn);
      this.emit(event, ...args);
    });
  }

  packet(packet) {
    packet.nsp = this.nsp;
    this.io._packet(packet);
  }

  onopen() {
    if (typeof this.auth === "function") this.auth((data) => this.sendConnectPacket(data));
    else this.sendConnectPacket(this.auth);
  }

  // sendConnectPacket adds the session to recover, when the server offered
  // connection-state recovery (a "pid" in its CONNECT answer).
  sendConnectPacket(data) {
    if (this._pid) data = Object.assign({ pid: this._pid, offset: this._lastOffset }, data);
    this.packet({ type: PacketType.CONNECT, data });
  }

  onerror(err) {
    if (!this.connected) this.emitReserved("connect_error", err);
  }

  onclose(reason, description) {
    this.connected = false;
    delete this.id;
    this.emitReserved("disconnect", reason, description);
    this.clearAcks();
  }

  // clearAcks fails the acknowledgements that can no longer come; those of
  // packets still in sendBuffer wait for the reconnection.
  clearAcks() {
    for (const id of Object.keys(this.acks)) {
      if (this.sendBuffer.some((p) => String(p.id) === id)) continue;
      const ack = this.acks[id];
      delete this.acks[id];
      if (ack.withError) ack.call(this, new Error("socket has been disconnected"));
    }
  }

  onpacket(packet) {
    if (packet.nsp !== this.nsp) return;
    switch (packet.type) {
      case PacketType.CONNECT:
        if (packet.data && packet.data.sid) this.onconnect(packet.data.sid, packet.data.pid);
        else this.emitReserved("connect_error", new Error("unexpected CONNECT answer: is this a Socket.IO v3+ server?"));
        break;
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.onack(packet);
        break;
      case PacketType.DISCONNECT:
        this.ondisconnect();
        break;
      case PacketType.CONNECT_ERROR: {
        this.destroy();
        const data = packet.data || {};
        const err = new Error(typeof data === "string" ? data : data.message);
        err.data = data.data;
        this.emitReserved("connect_error", err);
        break;
      }
    }
  }

  onevent(packet) {
    const args = packet.data || [];
    if (packet.id != null) args.push(this.ack(packet.id));
    if (this.connected) this.emitEvent(args);
    else this.receiveBuffer.push(Object.freeze(args));
  }

  emitEvent(args) {
    for (const fn of this._anyListeners.slice()) fn.apply(this, args);
    Emitter.prototype.emitReserved.apply(this, args);
    // With recovery on, the server appends each event's offset.
    if (this._pid && args.length && typeof args[args.length - 1] === "string") {
      this._lastOffset = args[args.length - 1];
    }
  }

  ack(id) {
    let sent = false;
    return (...args) => {
      if (sent) return;
      sent = true;
      this.packet({ type: PacketType.ACK, id, data: args });
    };
  }

  onack(packet) {
    const ack = this.acks[packet.id];
    if (typeof ack !== "function") return;
    delete this.acks[packet.id];
    const data = packet.data || [];
    if (ack.withError) data.unshift(null);
    ack.apply(this, data);
  }

  onconnect(id, pid) {
    this.id = id;
    this.recovered = !!(pid && this._pid === pid);
    this._pid = pid;
    this.connected = true;
    this.emitBuffered();
    this.emitReserved("connect");
  }

  emitBuffered() {
    this.receiveBuffer.forEach((args) => this.emitEvent(args));
    this.receiveBuffer = [];
    this.sendBuffer.forEach((packet) => {
      this.notifyOutgoing(packet);
      this.packet(packet);
    });
    this.sendBuffer = [];
  }

  ondisconnect() {
    this.destroy();
    this.onclose("io server disconnect");
  }

  destroy() {
    if (this.subs) {
      this.subs.forEach((unsubscribe) => unsubscribe());
      this.subs = undefined;
    }
    this.io._destroy(this);
  }

  disconnect() {
    if (this.connected) this.packet({ type: PacketType.DISCONNECT });
    this.destroy();
    if (this.connected) this.onclose("io client disconnect");
    return this;
  }

  close() {
    return this.disconnect();
  }

  compress(compress) {
    this.flags.compress = compress;
    return this;
  }

  get volatile() {
    this.flags.volatile = true;
    return this;
  }

  timeout(ms) {
    this.flags.timeout = ms;
    return this;
  }

  onAny(fn) {
    this._anyListeners.push(fn);
    return this;
  }

  prependAny(fn) {
    this._anyListeners.unshift(fn);
    return this;
  }

  offAny(fn) {
    if (!fn) this._anyListeners = [];
    else this._anyListeners = this._anyListeners.filter((l) => l !== fn);
    return this;
  }

  listenersAny() {
    return this._anyListeners.slice();
  }

  onAnyOutgoing(fn) {
    this._anyOutgoingListeners.push(fn);
    return this;
  }

  prependAnyOutgoing(fn) {
    this._anyOutgoingListeners.unshift(fn);
    return this;
  }

  offAnyOutgoing(fn) {
    if (!fn) this._anyOutgoingListeners = [];
    else this._anyOutgoingListeners = this._anyOutgoingListeners.filter((l) => l !== fn);
    return this;
  }

  listenersAnyOutgoing() {
    return this._anyOutgoingListeners.slice();
  }

  notifyOutgoing(packet) {
    if (!this._anyOutgoingListeners.length) return;
    const args = packet.data.filter((a) => typeof a !== "function");
    for (const fn of this._anyOutgoingListeners.slice()) fn.apply(this, args);
  }
}

// ---------------------------------------------------------------- lookup

function defaultOrigin() {
  if (typeof location !== "undefined" && location.host) return location.protocol + "//" + location.host;
  return "http://localhost";
}

// parseURI splits io()'s URL into the Manager's key, its origin, and the
// namespace (the path), as the official client does.
function parseURI(uri) {
  let s = uri;
  const hasLocation = typeof location !== "undefined" && location.host;
  if (s == null) s = hasLocation ? location.protocol + "//" + location.host : "http://localhost";
  if (typeof s === "string") {
    if (s.charAt(0) === "/") {
      if (s.charAt(1) === "/") s = (hasLocation ? location.protocol : "https:") + s;
      else s = (hasLocation ? location.protocol + "//" + location.host : "http://localhost") + s;
    } else if (!/^(https?|wss?):\/\//.test(s)) {
      s = (hasLocation ? location.protocol : "https:") + "//" + s;
    }
  }
  const u = new URL(s);
  const protocol = u.protocol === "wss:" ? "https:" : u.protocol === "ws:" ? "http:" : u.protocol;
  const port = u.port || (protocol === "https:" ? "443" : "80");
  return {
    source: protocol + "//" + u.host,
    id: protocol + "//" + u.hostname + ":" + port,
    path: u.pathname || "/",
    query: u.search,
  };
}

const managers = {};

// io returns a Socket for the namespace in url (default "/" on the page's
// origin), sharing one connection per origin unless told otherwise.
function io(uri, opts) {
  if (uri && typeof uri === "object") {
    opts = uri;
    uri = undefined;
  }
  opts = opts || {};
  const parsed = parseURI(uri);
  const sameNamespace = managers[parsed.id] && parsed.path in managers[parsed.id].nsps;
  const newConnection = opts.forceNew || opts["force new connection"] || opts.multiplex === false || sameNamespace;
  if (parsed.query && !opts.query) opts = Object.assign({}, opts, { query: parsed.query });
  let manager;
  if (newConnection) {
    manager = new Manager(parsed.source, opts);
  } else {
    if (!managers[parsed.id]) managers[parsed.id] = new Manager(parsed.source, opts);
    manager = managers[parsed.id];
  }
  return manager.socket(parsed.path, opts);
}

Object.assign(io, { Manager, Socket, io, connect: io, protocol });
