package adaptertest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/sockio/sockio"
)

// testBroadcast: broadcasts reach exactly their targets, once, across
// nodes: all, a room, two rooms, except a room, a socket id as a room, the
// local flag (only the sender's node), volatile, binary arguments, and a
// socket's own broadcast (everyone but itself).
func testBroadcast(h *harness) {
	w := h.world()
	last := w.nodes[len(w.nodes)-1]
	mid := w.nodes[len(w.nodes)/2]

	_ = mid.srv.Emit("all", 1)
	h.receivers(w, "all", 0, 1, 2, 3, 4, 5)

	// A room, from a node that may have no member of it.
	_ = last.srv.To("r").Emit("room", "x", 1.5, map[string]any{"k": []any{true, nil}})
	for _, ev := range h.receivers(w, "room", 0, 3) {
		if got := ev.String(); got != `room "x" 1.5 {"k":[true,null]}` {
			h.t.Errorf("to a room: got %s", got)
		}
	}
	_ = w.nodes[0].srv.To("r", "q").Emit("union")
	h.receivers(w, "union", 0, 3, 4)
	_ = w.nodes[0].srv.Except("r").Emit("except")
	h.receivers(w, "except", 1, 2, 4, 5)
	_ = mid.srv.To("q").Except("r").Emit("q-not-r")
	h.receivers(w, "q-not-r", 4)
	_ = w.nodes[0].srv.To(w.clients[5].ID()).Emit("direct")
	h.receivers(w, "direct", 5)
	_ = mid.srv.Local().Emit("local")
	h.receivers(w, "local", w.on(len(w.nodes)/2)...)
	h.volatileTo(w, func() { _ = last.srv.Volatile().To("q").Emit("volatile") }, 3, 4)
	_ = last.srv.To("r").Emit("bin", []byte{1, 2, 3}, map[string]any{"b": []byte{9}})
	for _, ev := range h.receivers(w, "bin", 0, 3) {
		if len(ev.Attachments) != 2 || string(ev.Attachments[0]) != "\x01\x02\x03" || string(ev.Attachments[1]) != "\x09" {
			h.t.Errorf("binary: attachments %q", ev.Attachments)
		}
	}
	s := w.nodes[0].srv.Of("/").Socket(w.clients[0].ID())
	_ = s.Broadcast().Emit("from-c0")
	h.receivers(w, "from-c0", 1, 2, 3, 4, 5)
	_ = s.To("q").Emit("c0-to-q")
	h.receivers(w, "c0-to-q", 3, 4)
}

// testBroadcastWithAck: a broadcast asking for acknowledgements gets one
// from every target on every node (each node's count, then each ack), in
// both the blocking and the callback form; when a client never answers,
// the broadcast ends with an error wrapping sockio.ErrTimeout and the
// answers of the others.
func testBroadcastWithAck(h *harness) {
	w := h.world()
	ctx := context.Background()
	last := w.nodes[len(w.nodes)-1]

	res, err := w.nodes[0].srv.Timeout(5*time.Second).EmitWithAck(ctx, "ask", "?")
	if err != nil {
		h.t.Fatalf("emitWithAck to all: %v", err)
	}
	if got := ackNames(h, res); !slices.Equal(got, []string{"c0", "c1", "c2", "c3", "c4", "c5"}) {
		h.t.Errorf("emitWithAck to all: answers %v", got)
	}
	h.receivers(w, "ask", 0, 1, 2, 3, 4, 5)

	res, err = last.srv.To("r").Timeout(5*time.Second).EmitWithAck(ctx, "ask-r")
	if err != nil {
		h.t.Fatalf("emitWithAck to r: %v", err)
	}
	if got := ackNames(h, res); !slices.Equal(got, []string{"c0", "c3"}) {
		h.t.Errorf("emitWithAck to r: answers %v", got)
	}

	done := make(chan []sockio.Args, 1)
	_ = w.nodes[0].srv.To("q").Timeout(5*time.Second).Emit("ask-q", func(err error, res []sockio.Args) {
		if err != nil {
			h.t.Errorf("emit with a callback: %v", err)
		}
		done <- res
	})
	select {
	case res := <-done:
		if got := ackNames(h, res); !slices.Equal(got, []string{"c3", "c4"}) {
			h.t.Errorf("emit with a callback: answers %v", got)
		}
	case <-time.After(eventTimeout):
		h.t.Fatal("emit with a callback: no callback")
	}

	w.clients[4].noAck.Store(true) // c4 (on the last node) never answers
	start := time.Now()
	res, err = w.nodes[0].srv.Timeout(time.Second).EmitWithAck(ctx, "ask-timeout")
	if !errors.Is(err, sockio.ErrTimeout) {
		h.t.Fatalf("a client that never answers: err = %v, want one wrapping sockio.ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second+h.cfg.requestBound() {
		h.t.Errorf("a client that never answers: ended after %v", d)
	}
	if got := ackNames(h, res); !slices.Equal(got, []string{"c0", "c1", "c2", "c3", "c5"}) {
		h.t.Errorf("a client that never answers: answers %v", got)
	}
}

func ackNames(h *harness, res []sockio.Args) []string {
	h.t.Helper()
	var out []string
	for _, a := range res {
		var s string
		if err := a.Decode(0, &s); err != nil {
			h.t.Fatalf("an acknowledgement: %v", err)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// volatileTo checks a volatile broadcast (emit sends one named
// "volatile"): it reaches only the clients of want, and each of them in a
// few tries: a volatile packet may be dropped while a connection's writer
// is busy, as the reference allows, so one try proves nothing.
func (h *harness) volatileTo(w *world, emit func(), want ...int) {
	h.t.Helper()
	got := map[int]bool{}
	for try := 0; try < 50 && len(got) < len(want); try++ {
		emit()
		h.sync(w, "", w.clients...) // what was not dropped has arrived
		for i, c := range w.clients {
			n := c.pending("volatile")
			if n > 0 && !slices.Contains(want, i) {
				h.t.Errorf("%s got a volatile broadcast not meant for it", c.name)
				return
			}
			for range n {
				c.expect("volatile")
			}
			if n > 0 {
				got[i] = true
			}
		}
	}
	if len(got) < len(want) {
		h.t.Errorf("volatile broadcast: of clients %v, only %v got one in 50 tries", want, got)
	}
}
