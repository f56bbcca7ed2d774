// The plain-WebSocket chat page: the browser's native WebSocket, kept up by
// the reconnecting helper, speaking JSON messages with a "type" field to
// /ws (see package chat, Plain). A small, complete example to copy. Text
// from the network only ever reaches the page through textContent.
import { ReconnectingWebSocket } from "/reconnecting-websocket.js";

const $ = (id) => document.getElementById(id);
const NAME_KEY = "sockio.chat.name";

const state = {
  wanted: localStorage.getItem(NAME_KEY) || "",
  name: "",
  room: roomFromHash() || "lobby",
  joined: false,
  maxLength: 1000,
  seen: new Set(),
  outbox: [], // messages typed while not connected: the helper buffers nothing
  refs: 0,
  typing: new Map(),
  sentTyping: 0,
  typingTimer: 0,
};
let rws = null;

// roomFromHash reads the room of a link like /plain.html#release-team. A
// crafted link (#%) is not valid percent-encoding and decodeURIComponent
// throws, which at start-up killed the page: such a hash is taken as typed
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

function start() {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  rws = new ReconnectingWebSocket(url, [], {
    minDelay: 500,
    maxDelay: 5000,
    pingMessage: '{"type":"ping"}',
    pongMessage: '{"type":"pong"}',
  });
  window.plain = { rws, state }; // for the browser tests and the curious
  rws.addEventListener("open", () => {
    setStatus("connected", "connected");
    send({ type: "join", name: state.wanted, room: state.room });
  });
  rws.addEventListener("close", () => {
    state.joined = false;
    if (!navigator.onLine) setStatus("offline", "offline");
    else setStatus("reconnecting", "reconnecting…");
  });
  rws.addEventListener("reconnecting", (e) => {
    if (navigator.onLine) setStatus("reconnecting", `reconnecting (attempt ${e.detail.attempt})`);
  });
  rws.addEventListener("giveup", () => setStatus("offline", "offline"));
  rws.addEventListener("message", (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    handle(m);
  });
}

function send(obj) {
  return rws.send(JSON.stringify(obj));
}

function handle(m) {
  switch (m.type) {
    case "welcome": {
      const fresh = !state.name || m.room !== state.room;
      state.name = m.name;
      state.room = m.room;
      state.maxLength = m.maxLength || state.maxLength;
      state.joined = true;
      $("me-name").textContent = m.name;
      paintAvatar($("me-avatar"), m.name);
      $("room-name").textContent = m.room;
      $("input").placeholder = `Message #${m.room}`;
      for (const msg of m.history) addMessage(msg, {});
      if (fresh) addSystem(`You joined #${m.room}`);
      else if (!state.renaming) addSystem("Connection restored");
      state.renaming = false;
      // Now that the server knows who we are, send what waited.
      for (const item of state.outbox.splice(0)) {
        send({ type: "message", text: item.text, ref: item.ref });
        setState(item.node, "sent");
      }
      break;
    }
    case "message": {
      if (m.ref) {
        const node = document.querySelector(`.msg[data-ref="${CSS.escape(m.ref)}"]`);
        if (node) {
          node.dataset.id = m.id;
          state.seen.add(m.id);
          setState(node, "acked");
          break;
        }
      }
      addMessage(m, {});
      break;
    }
    case "users":
      renderUsers(m.users, m.count); // the list is capped on big rooms; count is exact
      break;
    case "system":
      addSystem(m.text);
      break;
    case "typing":
      clearTimeout(state.typing.get(m.name));
      if (m.typing) {
        state.typing.set(
          m.name,
          setTimeout(() => {
            state.typing.delete(m.name);
            renderTyping();
          }, 3500),
        );
      } else {
        state.typing.delete(m.name);
      }
      renderTyping();
      break;
    case "error": {
      const node = m.ref && document.querySelector(`.msg[data-ref="${CSS.escape(m.ref)}"]`);
      if (node) setState(node, "failed", m.text);
      else $("error").textContent = m.text;
      break;
    }
  }
}

// ---------------------------------------------------------------- rendering

function setStatus(kind, text) {
  const el = $("status");
  el.className = "status status--" + kind;
  el.dataset.state = kind;
  el.lastElementChild.textContent = text;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function paintAvatar(node, name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  node.textContent = Array.from(name.trim())[0] || "?";
  node.style.background = `hsl(${h} 58% 52%)`;
}

function append(node) {
  const box = $("messages");
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const prev = box.lastElementChild;
  if (node.classList.contains("msg") && prev && prev.classList.contains("msg") && prev.dataset.from === node.dataset.from) {
    node.classList.add("msg--cont");
  }
  box.append(node);
  for (const n of box.querySelectorAll(".msg--last")) n.classList.remove("msg--last");
  const own = box.querySelectorAll(".msg--own");
  if (own.length) own[own.length - 1].classList.add("msg--last");
  if (stick) box.scrollTop = box.scrollHeight;
}

function addSystem(text) {
  append(el("div", "system", text));
}

function addMessage(m, { state: st, ref }) {
  if (m.id && state.seen.has(m.id)) return null;
  if (m.id) state.seen.add(m.id);
  const own = m.from === state.name;
  const node = el("div", "msg" + (own ? " msg--own" : ""));
  node.dataset.from = m.from;
  if (ref) node.dataset.ref = ref;
  const avatar = el("span", "avatar");
  paintAvatar(avatar, m.from);
  const meta = el("div", "meta");
  const time = new Date(m.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(el("span", "from", own ? "You" : m.from), el("time", "", time));
  node.append(avatar, meta, el("div", "bubble", m.text));
  if (st) {
    node.append(el("div", "state"));
    setState(node, st);
  }
  append(node);
  return node;
}

const STATE_TEXT = { queued: "◷ waiting for the connection", sent: "✓ sent", acked: "✓✓ delivered" };

function setState(node, kind, why) {
  node.dataset.state = kind;
  const s = node.querySelector(".state");
  if (!s) return;
  s.className = "state state--" + kind;
  s.textContent = kind === "failed" ? `⚠ not sent: ${why}` : STATE_TEXT[kind];
}

function renderUsers(users, count = users.length) {
  const list = $("users");
  list.replaceChildren();
  for (const u of users) {
    const li = el("li");
    const b = el("button");
    b.type = "button";
    b.disabled = true;
    const av = el("span", "avatar");
    paintAvatar(av, u.name);
    b.append(av, el("span", "user-name", u.name));
    if (u.name === state.name) b.append(el("span", "you", "you"));
    li.append(b);
    list.append(li);
  }
  $("user-count").textContent = String(count);
  $("room-count").textContent = `${count} online · plain WebSocket`;
}

function renderTyping() {
  const names = Array.from(state.typing.keys());
  $("typing").textContent =
    names.length === 0 ? "" : names.length === 1 ? `${names[0]} is typing…` : `${names.join(" and ")} are typing…`;
}

// ---------------------------------------------------------------- actions

$("composer").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("input").value.trim();
  if (!text) return;
  const n = Array.from(text).length;
  if (n > state.maxLength) {
    $("error").textContent = `Message too long: ${n} characters, the limit is ${state.maxLength}.`;
    return;
  }
  $("error").textContent = "";
  const ref = "r" + ++state.refs;
  const online = state.joined && rws.readyState === ReconnectingWebSocket.OPEN;
  const node = addMessage({ from: state.name, text, time: Date.now() }, { state: online ? "sent" : "queued", ref });
  if (online) send({ type: "message", text, ref });
  else state.outbox.push({ text, ref, node });
  $("input").value = "";
  clearTimeout(state.typingTimer);
  if (state.sentTyping) send({ type: "typing", typing: false });
  state.sentTyping = 0;
});

$("input").addEventListener("input", () => {
  const n = Array.from($("input").value.trim()).length;
  $("counter").textContent = n > state.maxLength * 0.8 ? `${n} / ${state.maxLength}` : "";
  $("counter").classList.toggle("counter--over", n > state.maxLength);
  if (!$("input").value.trim() || !state.joined) return;
  // Typing signals are throttled, and simply lost while disconnected.
  if (Date.now() - state.sentTyping > 2000) {
    send({ type: "typing", typing: true });
    state.sentTyping = Date.now();
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => {
    send({ type: "typing", typing: false });
    state.sentTyping = 0;
  }, 2500);
});

$("input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("composer").requestSubmit();
  }
});

$("menu").addEventListener("click", () => $("app").classList.toggle("app--menu"));
$("backdrop").addEventListener("click", () => $("app").classList.remove("app--menu"));
$("rename").addEventListener("click", () => {
  $("name-input").value = state.name;
  $("name-dialog").showModal();
});

$("name-form").addEventListener("submit", (ev) => {
  const name = $("name-input").value.trim();
  if (!name) {
    ev.preventDefault();
    return;
  }
  state.wanted = name;
  localStorage.setItem(NAME_KEY, name);
  if (!rws) start();
  else {
    state.renaming = true; // the server announces "x is now y"
    send({ type: "join", name, room: state.room });
  }
});
$("name-dialog").addEventListener("cancel", (ev) => {
  if (!rws) ev.preventDefault();
});

paintAvatar($("me-avatar"), state.wanted || "?");
$("me-name").textContent = state.wanted || "…";
if (state.wanted) start();
else $("name-dialog").showModal();
