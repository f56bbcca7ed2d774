package sockio

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockio/sockio/parser"
)

func connectAnswer(t *testing.T, got string) (sid, pid string) {
	t.Helper()
	var a struct{ SID, PID string }
	if !strings.HasPrefix(got, "40{") || json.Unmarshal([]byte(got[2:]), &a) != nil {
		t.Fatalf("connect answer %q", got)
	}
	return a.SID, a.PID
}

// lastArg returns the last argument of an EVENT text: the offset.
func lastArg(t *testing.T, got string) string {
	t.Helper()
	var args []any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(got, "42")), &args); err != nil || len(args) == 0 {
		t.Fatalf("event %q", got)
	}
	s, _ := args[len(args)-1].(string)
	return s
}

func TestConnectionStateRecovery(t *testing.T) {
	io, hs := newTestServer(t, Options{ConnectionStateRecovery: &RecoveryOptions{}})
	sockets := make(chan *Socket, 4)
	io.OnConnection(func(s *Socket) {
		s.On("join", func(room string, ack Ack) { s.Join(room); ack() })
		s.SetData("user data")
		sockets <- s
	})

	c := dial(t, hs)
	sid, pid := connectAnswer(t, c.connect("/"))
	if pid == "" {
		t.Fatal("no pid with recovery on")
	}
	first := <-sockets
	c.send(`420["join","news"]`)
	if got := c.read(); got != "430[]" {
		t.Fatalf("join ack %q", got)
	}
	_ = io.To("news").Emit("n", 1)
	got := c.read()
	if !strings.HasPrefix(got, `42["n",1,"`) {
		t.Fatalf("event with offset %q", got)
	}
	offset := lastArg(t, got)

	_ = c.ws.Close() // a network failure: "transport close" is recoverable
	waitFor(t, func() bool { return !first.Connected() })

	_ = io.To("news").Emit("n", 2)       // missed, in a room the socket was in
	_ = io.To("elsewhere").Emit("n", 3)  // not for it
	_ = io.Except("news").Emit("n", 4)   // not for it
	_ = first.Emit("direct", "to-me")    // to its own room: missed too
	_ = io.Volatile().Emit("n", "volat") // volatile: never kept

	c2 := dial(t, hs)
	c2.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if got := c2.read(); !strings.HasPrefix(got, `42["n",2,"`) {
		t.Fatalf("first missed event %q", got)
	}
	if got := c2.read(); !strings.HasPrefix(got, `42["direct","to-me","`) {
		t.Fatalf("second missed event %q", got)
	}
	sid2, pid2 := connectAnswer(t, c2.read())
	if sid2 != sid || pid2 != pid {
		t.Fatalf("recovered as %s/%s, want %s/%s", sid2, pid2, sid, pid)
	}
	s := <-sockets
	if !s.Recovered() || s.Data() != "user data" {
		t.Fatalf("recovered %v, data %v", s.Recovered(), s.Data())
	}
	if rooms := s.Rooms(); len(rooms) != 2 || rooms[0] != "news" && rooms[1] != "news" {
		t.Fatalf("rooms %v", rooms)
	}

	// A session is restored once; a second try gets a new socket.
	c3 := dial(t, hs)
	c3.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if sid3, _ := connectAnswer(t, c3.read()); sid3 == sid {
		t.Fatal("session restored twice")
	}
}

func TestNoRecoveryAfterClientDisconnect(t *testing.T) {
	io, hs := newTestServer(t, Options{ConnectionStateRecovery: &RecoveryOptions{MaxDisconnectionDuration: time.Minute}})
	gone := make(chan struct{}, 1)
	io.OnConnection(func(s *Socket) { s.OnDisconnect(func(string) { gone <- struct{}{} }) })
	c := dial(t, hs)
	sid, pid := connectAnswer(t, c.connect("/"))
	_ = io.Emit("e")
	offset := lastArg(t, c.read())
	c.send("41") // the client chose to leave: nothing is kept
	<-gone
	c.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if sid2, _ := connectAnswer(t, c.read()); sid2 == sid {
		t.Fatal("recovered after a client namespace disconnect")
	}
}

func TestRecoveryStoreBounded(t *testing.T) {
	r := newRecoveryStore((&RecoveryOptions{MaxPackets: 3}).withDefaults())
	var offsets []string
	for i := 0; i < 10; i++ {
		p := eventPacket(t, "e", i)
		r.store(p, &BroadcastOptions{})
		offsets = append(offsets, lastArg(t, "42"+string(p.Data)))
	}
	if len(r.packets) != 3 {
		t.Fatalf("%d packets kept, want 3", len(r.packets))
	}
	if _, _, ok := r.missed(nil, offsets[0]); ok {
		t.Fatal("read missed events from an offset that was dropped")
	}
	missed, through, ok := r.missed(nil, offsets[7])
	if !ok || len(missed) != 2 || through != offsets[9] {
		t.Fatalf("missed events from a kept offset: %d, through %q (want 2, %q), ok %v", len(missed), through, offsets[9], ok)
	}
	if !r.after(offsets[9], offsets[7]) || r.after(offsets[7], offsets[9]) || r.after(offsets[7], offsets[7]) {
		t.Fatal("offsets out of order")
	}
	r.close()
}

func eventPacket(t *testing.T, name string, args ...any) *parserPacket {
	t.Helper()
	p, err := newEventPacket("/", name, args)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Large packets are bounded by bytes as well as by count: 10 packets of
// ~10 KB with a 25 KB budget keep the newest two, and the total stays
// within the budget whatever the count bound.
func TestRecoveryStoreBoundedInBytes(t *testing.T) {
	r := newRecoveryStore((&RecoveryOptions{MaxBytes: 25_000}).withDefaults())
	big := strings.Repeat("x", 10_000)
	var offsets []string
	for i := 0; i < 10; i++ {
		p := eventPacket(t, "e", big, i)
		r.store(p, &BroadcastOptions{})
		offsets = append(offsets, lastArg(t, "42"+string(p.Data)))
		if r.bytes > 25_000 {
			t.Fatalf("after %d packets: %d bytes kept, over the 25,000 budget", i+1, r.bytes)
		}
	}
	if len(r.packets) != 2 {
		t.Fatalf("%d packets kept, want 2", len(r.packets))
	}
	if missed, _, ok := r.missed(nil, offsets[8]); !ok || len(missed) != 1 {
		t.Fatalf("missed events from a kept offset: %d, ok %v", len(missed), ok)
	}
	r.close()
}

// joinNewsAndLeave connects a client (whose server has a "join" event with
// an ack), joins room "news", gets an event there, loses its connection,
// and misses one event "missed" sent to "news": it returns what the
// client needs to recover.
func joinNewsAndLeave(t *testing.T, io *Server, hs *httptest.Server) (sid, pid, offset string) {
	t.Helper()
	c := dial(t, hs)
	sid, pid = connectAnswer(t, c.connect("/"))
	c.send(`420["join","news"]`)
	if got := c.read(); got != "430[]" {
		t.Fatalf("join ack %q", got)
	}
	_ = io.To("news").Emit("n", "before")
	offset = lastArg(t, c.read())
	_ = c.ws.Close()
	waitFor(t, func() bool { return len(io.Of("/").Sockets()) == 0 })
	_ = io.To("news").Emit("n", "missed")
	return sid, pid, offset
}

// TestEventsWhileConnecting: a socket is in its rooms before its CONNECT
// answer leaves, so that nothing sent after the client saw the answer is
// missed; what reaches it in between goes out after the missed events and
// the answer, in order.
func TestEventsWhileConnecting(t *testing.T) {
	io, hs := newTestServer(t, Options{ConnectionStateRecovery: &RecoveryOptions{}})
	io.OnConnection(func(s *Socket) {
		s.On("join", func(room string, ack Ack) { s.Join(room); ack() })
	})
	_, pid, offset := joinNewsAndLeave(t, io, hs)

	hook := func(s *Socket) {
		_ = io.To("news").Emit("n", "during")
		_ = io.To(s.ID()).Emit("n", "to-me")
	}
	connectingHook.Store(&hook)
	t.Cleanup(func() { connectingHook.Store(nil) })
	c2 := dial(t, hs)
	c2.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	if got := c2.read(); !strings.HasPrefix(got, `42["n","missed","`) {
		t.Fatalf("first packet %q, want the missed event", got)
	}
	connectAnswer(t, c2.read())
	for _, want := range []string{"during", "to-me"} {
		if got := c2.read(); !strings.HasPrefix(got, `42["n","`+want+`","`) {
			t.Fatalf("after CONNECT %q, want %q", got, want)
		}
	}
}

// TestRecoveryBeyondSendQueue: a client that missed more events than its
// send queue holds gets them all, not a "slow consumer" close that loses
// its session (the recovery log bounds the replay).
func TestRecoveryBeyondSendQueue(t *testing.T) {
	io, hs := newTestServer(t, Options{MaxBufferedPackets: 8, ConnectionStateRecovery: &RecoveryOptions{}})
	c := dial(t, hs)
	sid, pid := connectAnswer(t, c.connect("/"))
	_ = io.Emit("n", -1)
	offset := lastArg(t, c.read())
	_ = c.ws.Close()
	waitFor(t, func() bool { return len(io.Of("/").Sockets()) == 0 })
	const missed = 50
	for i := range missed {
		_ = io.Emit("n", i)
	}
	c2 := dial(t, hs)
	c2.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	for i := range missed {
		if got := c2.read(); !strings.HasPrefix(got, `42["n",`+itoa(i)+`,"`) {
			t.Fatalf("missed event %d: %q", i, got)
		}
	}
	if sid2, _ := connectAnswer(t, c2.read()); sid2 != sid {
		t.Fatalf("recovered as %s, want %s", sid2, sid)
	}
	// The bound holds again once the replay is out.
	_ = io.Emit("after", 1)
	if got := c2.read(); !strings.HasPrefix(got, `42["after",1,"`) {
		t.Fatalf("after recovery %q", got)
	}
}

// TestKeptBroadcastsInOffsetOrder: broadcasts from several goroutines reach
// a client in the order of their offsets, which recovery relies on.
func TestKeptBroadcastsInOffsetOrder(t *testing.T) {
	io, hs := newTestServer(t, Options{ConnectionStateRecovery: &RecoveryOptions{}})
	c := dial(t, hs)
	connectAnswer(t, c.connect("/"))
	const senders, each = 4, 300
	done := make(chan struct{})
	for g := range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				_ = io.Emit("n", g, i)
			}
		}()
	}
	prev := ""
	for range senders * each {
		off := lastArg(t, c.read())
		if prev != "" && offsetLess(off, prev) {
			t.Fatalf("offset %s after %s", off, prev)
		}
		prev = off
	}
	for range senders {
		<-done
	}
}

// offsetLess compares two offsets of one server's recovery store: one
// prefix, then the sequence in base 36 without leading zeros, so the
// longer is the later, and at one length the order is the strings'.
func offsetLess(a, b string) bool {
	return len(a) < len(b) || len(a) == len(b) && a < b
}

// betweenAdapter broadcasts while a recovery is between TakeSession and
// ReadMissed: the event is in the replay and, the socket being back in
// its rooms, delivered live too.
type betweenAdapter struct {
	*MemoryAdapter
	during func()
}

func (a *betweenAdapter) ReadMissed(ctx context.Context, rooms []string, offset string) ([]*parser.Packet, string, bool, error) {
	if a.during != nil {
		a.during()
	}
	return a.MemoryAdapter.ReadMissed(ctx, rooms, offset)
}

// TestRecoveryRacingBroadcasts: a broadcast sent while a session is being
// restored reaches the socket exactly once, whether it is sent while its
// missed events are read (in the replay and live: the live one is
// dropped) or while its middlewares run (live only, after the CONNECT).
func TestRecoveryRacingBroadcasts(t *testing.T) {
	var ad *betweenAdapter
	io, hs := newTestServer(t, Options{
		ConnectionStateRecovery: &RecoveryOptions{},
		Adapter: func(n *Namespace) Adapter {
			ad = &betweenAdapter{MemoryAdapter: NewMemoryAdapter(n)}
			return ad
		},
	})
	var inMiddleware atomic.Bool
	io.Of("/").Use(func(s *Socket) error {
		if inMiddleware.Load() {
			_ = io.To("news").Emit("n", "middleware")
		}
		return nil
	})
	io.OnConnection(func(s *Socket) {
		s.On("join", func(room string, ack Ack) { s.Join(room); ack() })
	})
	sid, pid, offset := joinNewsAndLeave(t, io, hs)

	ad.during = func() { _ = io.To("news").Emit("n", "reading") }
	inMiddleware.Store(true)
	c2 := dial(t, hs)
	c2.send(`40{"pid":"` + pid + `","offset":"` + offset + `"}`)
	for _, want := range []string{"missed", "reading"} {
		if got := c2.read(); !strings.HasPrefix(got, `42["n","`+want+`","`) {
			t.Fatalf("replay: %q, want %q", got, want)
		}
	}
	if sid2, _ := connectAnswer(t, c2.read()); sid2 != sid {
		t.Fatalf("recovered as %s, want %s", sid2, sid)
	}
	if got := c2.read(); !strings.HasPrefix(got, `42["n","middleware","`) {
		t.Fatalf("after CONNECT %q, want the middleware's event", got)
	}
	// Nothing twice: the next one is the next event.
	_ = io.To("news").Emit("n", "after")
	if got := c2.read(); !strings.HasPrefix(got, `42["n","after","`) {
		t.Fatalf("%q, want the event sent after the recovery", got)
	}
}
