// ReconnectingWebSocket: the browser's native WebSocket, kept up.
//
// It behaves like sockio's Go ws.DialReconnecting: when the connection is
// lost it reconnects after an exponential backoff with jitter, one attempt
// at a time (a reconnection lock), up to maxAttempts failures in a row; an
// optional heartbeat finds a connection that died silently; every timer is
// cleared on close(). Browsers cannot send WebSocket pings, so the heartbeat
// is an application message: every heartbeatInterval ms it sends
// pingMessage, and if nothing at all arrives within heartbeatTimeout ms the
// socket is taken for dead, dropped and replaced. (The server's own ping
// frames are answered by the browser, so a sockio ws.Server also finds dead
// browsers by itself.)
//
//   import { ReconnectingWebSocket } from '/reconnecting-websocket.js';
//   const rws = new ReconnectingWebSocket('wss://example.com/chat', [], {
//     pingMessage: '{"type":"ping"}', pongMessage: '{"type":"pong"}',
//   });
//   rws.addEventListener('message', (e) => console.log(e.data));
//   rws.addEventListener('reconnecting', (e) => console.log('retry', e.detail));
//   rws.send('hello');   // false while not connected: nothing is buffered
//
// Events: open, message, close (each underlying close; detail.willReconnect),
// error, reconnecting (detail {attempt, delay}), giveup. The on<event>
// properties work as on a WebSocket.

const DEFAULTS = {
  minDelay: 500, // ms before the first reconnection attempt
  maxDelay: 30000, // ms, cap of the doubling
  jitter: 0.5, // each wait is spread by up to ± this fraction
  maxAttempts: Infinity, // failed attempts in a row before giving up
  connectTimeout: 10000, // ms for one attempt to open
  heartbeatInterval: 25000, // ms between heartbeat messages
  heartbeatTimeout: 10000, // ms to wait for any message after one
  pingMessage: null, // the heartbeat message; null turns the heartbeat off
  pongMessage: null, // a reply to the heartbeat, kept from 'message' listeners
  binaryType: null, // set on each socket when given
  WebSocket: null, // the WebSocket class; globalThis.WebSocket by default
};

export class ReconnectingWebSocket extends EventTarget {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;

  constructor(url, protocols = [], options = {}) {
    super();
    this.url = url;
    this.protocols = protocols;
    this.options = { ...DEFAULTS, ...options };
    this.WS = this.options.WebSocket || globalThis.WebSocket;
    if (!this.WS) throw new Error('ReconnectingWebSocket: no WebSocket class available');
    this.failures = 0; // failed attempts in a row
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this._ws = null;
    this._closed = false;
    this._timers = { reconnect: null, connect: null, ping: null, pong: null };
    this._connect();
  }

  get readyState() {
    if (this._closed) return this._ws ? this._ws.readyState : ReconnectingWebSocket.CLOSED;
    return this._ws ? this._ws.readyState : ReconnectingWebSocket.CONNECTING;
  }

  get protocol() {
    return this._ws ? this._ws.protocol : '';
  }

  // send returns false (and sends nothing) unless a connection is open.
  send(data) {
    if (!this._ws || this._ws.readyState !== ReconnectingWebSocket.OPEN) return false;
    this._ws.send(data);
    return true;
  }

  // close stops reconnecting, clears every timer and closes the socket.
  close(code = 1000, reason = '') {
    this._closed = true;
    this._clearTimers();
    if (this._ws && this._ws.readyState < ReconnectingWebSocket.CLOSING) this._ws.close(code, reason);
    if (!this._ws) this._emit('close', { code, reason, wasClean: true, willReconnect: false });
  }

  // reconnect drops the current socket and connects again at once; it does
  // nothing while an attempt is already waiting or running (the lock).
  reconnect() {
    if (this._closed || this._timers.reconnect || this._isAttempting()) return;
    this._drop(4000, 'reconnecting');
    this._connect();
  }

  _isAttempting() {
    return this._ws !== null && this._ws.readyState === ReconnectingWebSocket.CONNECTING;
  }

  _connect() {
    this._timers.reconnect = null;
    if (this._closed) return;
    let ws;
    try {
      ws = new this.WS(this.url, this.protocols);
    } catch (err) {
      this._emit('error', { error: err });
      this._failed();
      return;
    }
    if (this.options.binaryType) ws.binaryType = this.options.binaryType;
    this._ws = ws;
    this._timers.connect = setTimeout(() => {
      this._timers.connect = null;
      this._drop(4000, 'connect timeout');
      this._failed();
    }, this.options.connectTimeout);
    ws.onopen = (e) => {
      if (this._ws !== ws) return;
      this._clear('connect');
      this.failures = 0;
      this._startHeartbeat();
      this._emit('open', {});
    };
    ws.onmessage = (e) => {
      if (this._ws !== ws) return;
      this._alive();
      if (this.options.pongMessage !== null && e.data === this.options.pongMessage) return;
      this._emit('message', { data: e.data });
    };
    ws.onerror = (e) => {
      if (this._ws !== ws) return;
      this._emit('error', {});
    };
    ws.onclose = (e) => {
      if (this._ws !== ws) return;
      const opened = !this._timers.connect;
      this._ws = null;
      this._clearTimers();
      this._emit('close', { code: e.code, reason: e.reason, wasClean: e.wasClean, willReconnect: !this._closed });
      if (this._closed) return;
      if (opened) this._schedule(0);
      else this._failed();
    };
  }

  // _drop abandons the current socket: its later events are ignored, so a
  // connection that died silently cannot delay the next one.
  _drop(code, reason) {
    const ws = this._ws;
    this._ws = null;
    this._clearTimers();
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch {
      // a socket still connecting may refuse; it is abandoned either way
    }
    this._emit('close', { code: 1006, reason, wasClean: false, willReconnect: !this._closed });
  }

  _failed() {
    this.failures++;
    if (this.failures >= this.options.maxAttempts) {
      this._closed = true;
      this._clearTimers();
      this._emit('giveup', { attempts: this.failures });
      return;
    }
    this._schedule(this.failures);
  }

  // _schedule takes the reconnection lock: one pending attempt at most.
  _schedule(failures) {
    if (this._closed || this._timers.reconnect || this._isAttempting()) return;
    const { minDelay, maxDelay, jitter } = this.options;
    let delay = Math.min(maxDelay, minDelay * 2 ** failures);
    if (jitter > 0) delay *= 1 + Math.min(jitter, 1) * (2 * Math.random() - 1);
    delay = Math.round(delay);
    this._timers.reconnect = setTimeout(() => this._connect(), delay);
    this._emit('reconnecting', { attempt: failures + 1, delay });
  }

  _startHeartbeat() {
    const { pingMessage, heartbeatInterval } = this.options;
    if (pingMessage === null) return;
    this._timers.ping = setInterval(() => {
      if (!this._ws || this._ws.readyState !== ReconnectingWebSocket.OPEN) return;
      this._ws.send(pingMessage);
      if (!this._timers.pong) {
        this._timers.pong = setTimeout(() => {
          this._timers.pong = null;
          this._drop(4000, 'heartbeat timeout');
          this._schedule(0);
        }, this.options.heartbeatTimeout);
      }
    }, heartbeatInterval);
  }

  _alive() {
    this._clear('pong');
  }

  _clear(name) {
    const t = this._timers[name];
    if (t === null) return;
    clearTimeout(t); // clearTimeout clears intervals too
    this._timers[name] = null;
  }

  _clearTimers() {
    for (const name of Object.keys(this._timers)) this._clear(name);
  }

  // timersPending reports whether any timer is armed (for tests and
  // debugging: after close() it is always false).
  timersPending() {
    return Object.values(this._timers).some((t) => t !== null);
  }

  _emit(type, fields) {
    const ev = new Event(type);
    Object.assign(ev, fields);
    if (type === 'reconnecting' || type === 'giveup') ev.detail = fields;
    if (type === 'close') ev.detail = { willReconnect: fields.willReconnect };
    this.dispatchEvent(ev);
    const handler = this['on' + type];
    if (typeof handler === 'function') handler.call(this, ev);
  }
}

export default ReconnectingWebSocket;
