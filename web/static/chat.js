// The sockio chat page, on our own Socket.IO client (its ES module build).
// Every piece of text from the network reaches the page through
// textContent, never as markup: a message "<img onerror=…>" shows as text.
import { io } from "/socket.io/socket.io.esm.js";

const $ = (id) => document.getElementById(id);
const NAME_KEY = "sockio.chat.name";
const TYPING_EVERY = 2000; // ms between two "typing" signals while typing
const TYPING_IDLE = 2500; // ms without a key before "stopped typing"
const TYPING_SHOWN = 3500; // ms a typing indicator lasts without a refresh

const params = new URLSearchParams(location.search);
const transport = params.get("transport"); // "polling" or "websocket" forces one

// clientId is new on each page load: the server uses it to recognise this
// page coming back after a network blip (same name, no "left" line).
const clientId = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
  b.toString(16).padStart(2, "0"),
).join("");

const state = {
  wanted: localStorage.getItem(NAME_KEY) || "",
  name: "",
  room: roomFromHash() || "lobby",
  shownRoom: null,
  maxLength: 1000,
  privateTo: null,
  seen: new Set(),
  connectedOnce: false,
  attempt: 0,
  typing: new Map(),
  sentTyping: 0,
  typingTimer: 0,
  localIds: 0,
};

const socket = io({
  autoConnect: false,
  transports: transport ? [transport] : undefined,
  // auth is read on every (re)connection, so the server puts us back in
  // our room with our name before any message buffered offline is handled.
  auth: (cb) => cb({ name: state.wanted, clientId, room: state.room, reconnect: state.connectedOnce }),
});
window.chat = { socket, state }; // for the browser tests and the curious

// ------------------------------------------------------------ connection

function setStatus(kind, text) {
  const el = $("status");
  el.className = "status status--" + kind;
  el.lastElementChild.textContent = text;
  el.dataset.state = kind;
}

function showDisconnected() {
  if (!navigator.onLine) setStatus("offline", "offline");
  else if (state.attempt > 0) setStatus("reconnecting", `reconnecting (attempt ${state.attempt})`);
  else setStatus("reconnecting", "reconnecting…");
}

socket.on("connect", () => {
  state.attempt = 0;
  setStatus("connected", "connected");
  // Recovered (connection-state recovery): the server kept our socket, its
  // name and room, and now replays every event we missed, once, in order.
  // No welcome comes, and none is needed: no rejoin, no history to merge.
  // Not recovered, the server sends a welcome, as on a first connection.
  if (socket.recovered) {
    state.recoveries = (state.recoveries || 0) + 1;
    addSystem("Connection restored");
  }
  // Messages typed offline were just flushed from the client's buffer.
  for (const el of document.querySelectorAll('.msg[data-state="queued"]')) setState(el, "sent");
});

socket.on("disconnect", (reason) => {
  if (reason === "io server disconnect") {
    setStatus("offline", "disconnected by the server");
    return;
  }
  showDisconnected();
});

socket.io.on("reconnect_attempt", (n) => {
  state.attempt = n;
  showDisconnected();
});
socket.io.on("reconnect_failed", () => setStatus("offline", "offline"));
socket.on("connect_error", (err) => {
  if (!socket.active) setStatus("offline", "refused: " + err.message);
});
// A closed or reloaded tab says goodbye: the server then tells the room at
// once, where a dropped connection's "left" line waits for a recovery that
// will not come.
addEventListener("pagehide", (ev) => {
  if (!ev.persisted) socket.disconnect();
});
addEventListener("offline", () => {
  if (!socket.connected) showDisconnected();
});
addEventListener("online", () => {
  if (!socket.connected) showDisconnected();
});

// ------------------------------------------------------------ server events

socket.on("welcome", (w) => applyWelcome(w));

socket.on("message", (m) => {
  if (m.room === state.shownRoom) addMessage(m);
});

socket.on("private", (p) => addMessage(p, { private: true }));

socket.on("system", (s) => {
  if (s.room === state.shownRoom) addSystem(s.text);
});

// The list is capped on big rooms; count is exact.
socket.on("users", ({ room, users, count }) => {
  if (room === state.shownRoom) renderUsers(users, count);
});

socket.on("rooms", (rooms) => renderRooms(rooms));

socket.on("typing", ({ room, name, typing }) => {
  if (room !== state.shownRoom || name === state.name) return;
  clearTimeout(state.typing.get(name));
  if (typing) {
    state.typing.set(
      name,
      setTimeout(() => {
        state.typing.delete(name);
        renderTyping();
      }, TYPING_SHOWN),
    );
  } else {
    state.typing.delete(name);
  }
  renderTyping();
});

// applyWelcome shows a room: on a first join or a room change it starts a
// fresh view; on a reconnection it merges the history, which also brings
// the messages sent while we were away.
function applyWelcome(w) {
  const fresh = w.room !== state.shownRoom;
  state.room = w.room;
  state.shownRoom = w.room;
  state.maxLength = w.maxLength || state.maxLength;
  setName(w.name);
  if (fresh) {
    $("messages").replaceChildren();
    state.seen.clear();
    state.typing.clear();
    renderTyping();
  }
  for (const m of w.history) addMessage(m, { history: true });
  if (fresh) {
    addSystem(`You joined #${w.room}`);
    if (state.wanted && w.name.toLowerCase() !== state.wanted.toLowerCase()) {
      addSystem(`“${state.wanted}” is taken, so you are “${w.name}” here`);
    }
  } else {
    addSystem("Connection restored");
  }
  state.connectedOnce = true;
  renderUsers(w.users, w.userCount);
  renderRooms(w.rooms);
  $("room-name").textContent = w.room;
  $("input").placeholder = `Message #${w.room}`;
  document.title = `#${w.room} · sockio chat`;
  if (location.hash !== "#" + w.room) history.replaceState(null, "", "#" + w.room);
  renderEmpty();
}

function setName(name) {
  state.name = name;
  $("me-name").textContent = name;
  paintAvatar($("me-avatar"), name);
}

// ---------------------------------------------------------------- rendering

function hue(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function paintAvatar(el, name) {
  el.textContent = Array.from(name.trim())[0] || "?";
  el.style.background = `hsl(${hue(name)} 58% 52%)`;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function nearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollDown(force) {
  const box = $("messages");
  if (force || nearBottom()) box.scrollTop = box.scrollHeight;
}

function renderEmpty() {
  const box = $("messages");
  const empty = box.querySelector(".empty");
  const hasMessages = box.querySelector(".msg");
  if (hasMessages && empty) empty.remove();
  if (!hasMessages && !empty) {
    const e = el("div", "empty");
    e.append(el("strong", "", "No messages yet"), "Say hello — everyone in this room sees it at once.");
    box.prepend(e);
  }
}

// insert puts an item in time order: usually at the end, earlier for
// history that arrives after a reconnection.
function insert(node, time) {
  const box = $("messages");
  const stick = nearBottom();
  let after = box.lastElementChild;
  while (after && Number(after.dataset.time || 0) > time) after = after.previousElementSibling;
  if (after) after.after(node);
  else box.prepend(node);
  regroup();
  renderEmpty();
  scrollDown(stick);
}

// regroup marks messages that continue their sender's run, so only the
// first of a run shows the name and avatar.
function regroup() {
  let prev = null;
  for (const node of $("messages").children) {
    if (!node.classList.contains("msg")) {
      prev = null;
      continue;
    }
    const cont =
      prev &&
      prev.dataset.from === node.dataset.from &&
      prev.dataset.kind === node.dataset.kind &&
      Number(node.dataset.time) - Number(prev.dataset.time) < 5 * 60 * 1000;
    node.classList.toggle("msg--cont", !!cont);
    prev = node;
  }
  const own = $("messages").querySelectorAll(".msg--own");
  own.forEach((n, i) => n.classList.toggle("msg--last", i === own.length - 1));
}

function addSystem(text) {
  const node = el("div", "system", text);
  node.dataset.time = String(Date.now());
  insert(node, Date.now());
}

function addMessage(m, opts = {}) {
  if (m.id && state.seen.has(m.id)) return null;
  if (m.id) state.seen.add(m.id);
  const own = m.from === state.name;
  const node = el("div", "msg");
  node.classList.toggle("msg--own", own);
  node.classList.toggle("msg--private", !!opts.private);
  node.dataset.id = m.id || "";
  node.dataset.time = String(m.time);
  node.dataset.from = m.from;
  node.dataset.kind = opts.private ? "private" : "room";

  const avatar = el("span", "avatar");
  paintAvatar(avatar, m.from);
  const meta = el("div", "meta");
  meta.append(el("span", "from", own ? "You" : m.from), el("time", "", clock(m.time)));
  if (opts.private) meta.append(el("span", "tag", own ? `private to ${m.to}` : "private to you"));
  const bubble = el("div", "bubble", m.text);
  node.append(avatar, meta, bubble);
  if (own && !opts.history) {
    node.append(el("div", "state"));
    setState(node, opts.state || "acked");
  }
  insert(node, m.time);
  return node;
}

const STATE_TEXT = {
  queued: "◷ waiting for the connection",
  sent: "✓ sent",
  acked: "✓✓ delivered",
  failed: "not sent",
};

function setState(node, kind, why) {
  node.dataset.state = kind;
  const s = node.querySelector(".state");
  if (!s) return;
  s.className = "state state--" + kind;
  s.textContent = kind === "failed" && why ? `⚠ not sent: ${why}` : STATE_TEXT[kind];
  s.title = kind === "acked" ? "acknowledged by the server" : "";
}

function renderUsers(users, count = users.length) {
  const list = $("users");
  list.replaceChildren();
  for (const u of users) {
    const li = el("li");
    const b = el("button");
    b.type = "button";
    const av = el("span", "avatar");
    paintAvatar(av, u.name);
    b.append(av, el("span", "user-name", u.name));
    if (u.name === state.name) {
      b.append(el("span", "you", "you"));
      b.disabled = true;
    } else {
      b.title = `Private message to ${u.name}`;
      b.addEventListener("click", () => setPrivate(u.name));
    }
    li.append(b);
    list.append(li);
  }
  $("user-count").textContent = String(count);
  $("room-count").textContent = count === 1 ? "1 person online" : `${count} people online`;
}

function renderRooms(rooms) {
  const list = $("rooms");
  list.replaceChildren();
  const names = rooms.map((r) => r.name);
  if (state.shownRoom && !names.includes(state.shownRoom)) rooms = rooms.concat([{ name: state.shownRoom, count: 1 }]);
  for (const r of rooms) {
    const li = el("li");
    const b = el("button");
    b.type = "button";
    b.setAttribute("aria-current", String(r.name === state.shownRoom));
    b.append(el("span", "room-name", r.name), el("span", "room-count", String(r.count)));
    b.addEventListener("click", () => joinRoom(r.name));
    li.append(b);
    list.append(li);
  }
}

function renderTyping() {
  const names = Array.from(state.typing.keys());
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = "Several people are typing…";
  $("typing").textContent = text;
}

// ---------------------------------------------------------------- actions

function showError(text) {
  $("error").textContent = text || "";
}

function joinRoom(name) {
  closeMenu();
  if (!name || name === state.shownRoom) return;
  socket.timeout(10000).emit("join", name, (err, w) => {
    if (err) showError("Could not join the room: no answer from the server");
    else if (w.error) showError(w.error);
    else {
      showError("");
      applyWelcome(w);
    }
  });
}

function setPrivate(name) {
  closeMenu();
  state.privateTo = name;
  $("private-name").textContent = name;
  $("private-to").hidden = !name;
  $("input").placeholder = name ? `Private message to ${name}` : `Message #${state.shownRoom}`;
  $("input").focus();
}

function send(text) {
  const local = { id: "", room: state.shownRoom, from: state.name, text, time: Date.now() };
  const isPrivate = !!state.privateTo;
  if (isPrivate) local.to = state.privateTo;
  const node = addMessage(local, { private: isPrivate, state: socket.connected ? "sent" : "queued" });
  const event = isPrivate ? "private" : "message";
  const payload = isPrivate ? { to: state.privateTo, text } : { text };
  // No ack timeout: a message typed offline waits in the client's buffer
  // until the connection is back, then the server acknowledges it.
  socket.emit(event, payload, (res) => {
    if (res && res.ok) {
      node.dataset.id = res.message.id;
      state.seen.add(res.message.id);
      setState(node, "acked");
    } else {
      setState(node, "failed", res && res.error);
    }
  });
  stopTyping();
}

function stopTyping() {
  clearTimeout(state.typingTimer);
  if (state.sentTyping) {
    socket.volatile.emit("typing", false);
    state.sentTyping = 0;
  }
}

// Typing signals are volatile (dropped rather than queued when the
// connection is busy or down) and throttled to one per TYPING_EVERY.
function typed() {
  const now = Date.now();
  if (now - state.sentTyping > TYPING_EVERY) {
    socket.volatile.emit("typing", true);
    state.sentTyping = now;
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(stopTyping, TYPING_IDLE);
}

function updateCounter() {
  const n = Array.from($("input").value.trim()).length;
  const c = $("counter");
  c.textContent = n > state.maxLength * 0.8 ? `${n} / ${state.maxLength}` : "";
  c.classList.toggle("counter--over", n > state.maxLength);
  if (n <= state.maxLength && $("error").dataset.kind === "length") {
    showError("");
    delete $("error").dataset.kind;
  }
}

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("input");
  const text = input.value.trim();
  if (!text) return;
  const n = Array.from(text).length;
  if (n > state.maxLength) {
    showError(`Message too long: ${n} characters, the limit is ${state.maxLength}.`);
    $("error").dataset.kind = "length";
    return;
  }
  showError("");
  send(text);
  input.value = "";
  autosize();
  updateCounter();
});

function autosize() {
  const input = $("input");
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 160) + "px";
}

$("input").addEventListener("input", () => {
  autosize();
  updateCounter();
  if ($("input").value.trim()) typed();
});

$("input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("composer").requestSubmit();
  } else if (ev.key === "Escape" && state.privateTo) {
    setPrivate(null);
  }
});

$("private-cancel").addEventListener("click", () => setPrivate(null));

$("new-room").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = $("new-room-input");
  joinRoom(input.value.trim());
  input.value = "";
});

function closeMenu() {
  $("app").classList.remove("app--menu");
}
$("menu").addEventListener("click", () => $("app").classList.toggle("app--menu"));
$("backdrop").addEventListener("click", closeMenu);

// roomFromHash reads the room of a link like /#release-team. A crafted
// link (/#%) is not valid percent-encoding and decodeURIComponent throws:
// read at start-up, that killed the page. Such a hash is taken as typed
// (the server folds room names anyway).
function roomFromHash() {
  const raw = location.hash.slice(1);
  let room = raw;
  try {
    room = decodeURIComponent(raw);
  } catch {
    // keep the raw text
  }
  return room.trim().slice(0, 100);
}
addEventListener("hashchange", () => {
  const room = roomFromHash();
  if (room && room !== state.shownRoom) joinRoom(room);
});

// --------------------------------------------------------------- nickname

function askName(renaming) {
  const dialog = $("name-dialog");
  $("name-title").textContent = renaming ? "Change your nickname" : "Welcome to sockio chat";
  $("name-text").textContent = renaming
    ? "Everyone in the room sees the change."
    : "Pick a nickname. It is kept in this browser.";
  $("name-input").value = renaming ? state.name : state.wanted;
  dialog.dataset.renaming = renaming ? "1" : "";
  dialog.showModal();
}

$("name-form").addEventListener("submit", (ev) => {
  const name = $("name-input").value.trim();
  if (!name) {
    ev.preventDefault();
    return;
  }
  state.wanted = name;
  localStorage.setItem(NAME_KEY, name);
  if ($("name-dialog").dataset.renaming) {
    socket.timeout(10000).emit("rename", name, (err, res) => {
      if (err) showError("Could not rename: no answer from the server");
      else if (res.error) showError(res.error);
      else setName(res.name);
    });
  } else {
    socket.connect();
  }
});

// Escape must not leave a first-time visitor without a name.
$("name-dialog").addEventListener("cancel", (ev) => {
  if (!$("name-dialog").dataset.renaming) ev.preventDefault();
});

$("rename").addEventListener("click", () => askName(true));

setName(state.wanted || "…");
renderEmpty();
if (state.wanted) socket.connect();
else askName(false);
