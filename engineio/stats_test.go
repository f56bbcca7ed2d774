package engineio

import (
	"testing"
	"time"
)

// A request passed to the node that holds its session counts as
// forwarded on the node that passed it, and as served on the owner; one
// whose owner does not answer counts as a failure.
func TestStatsForwarding(t *testing.T) {
	a, b := twoNodes(t, Options{PingInterval: time.Hour})
	sid := handshake(t, a.hs)
	s := <-a.sessions
	<-a.recs
	bURL := b.peers.urls["b"]
	if res, body := post(t, bURL+"/?EIO=4&transport=polling&sid="+sid, "4one\x1e4two"); res.StatusCode != 200 {
		t.Fatalf("forwarded POST: %d %q", res.StatusCode, body)
	}
	if err := s.Send(SendOptions{}, msgPacket("hello")); err != nil {
		t.Fatal(err)
	}
	if res, body := fget(t, bURL+"/?EIO=4&transport=polling&sid="+sid, nil); res.StatusCode != 200 || body != "4hello" {
		t.Fatalf("forwarded GET: %d %q", res.StatusCode, body)
	}
	sb, sa := b.srv.Stats(), a.srv.Stats()
	if sb.Forwarded != 2 || sb.ForwardFailed != 0 || sb.PollGets != 0 || sb.PollPosts != 0 {
		t.Errorf("b: forwarded %d failed %d, served %d GET %d POST", sb.Forwarded, sb.ForwardFailed, sb.PollGets, sb.PollPosts)
	}
	if sa.Forwarded != 0 || sa.PollGets != 1 || sa.PollPosts != 1 || sa.Sessions[Polling] != 1 || sa.Opened[Polling] != 1 {
		t.Errorf("a: forwarded %d, served %d GET %d POST, sessions %v opened %v", sa.Forwarded, sa.PollGets, sa.PollPosts, sa.Sessions, sa.Opened)
	}
	// The open packet, then the one message: two out; two in.
	if sa.PacketsIn != 2 || sa.BytesIn != uint64(len("4one")+len("4two")) || sa.PacketsOut != 2 {
		t.Errorf("a: in %d packets %d bytes, out %d packets", sa.PacketsIn, sa.BytesIn, sa.PacketsOut)
	}

	// The owner's address stops answering (port 1 on loopback: refused).
	b.peers.set("a", "http://127.0.0.1:1")
	if res, _ := fget(t, bURL+"/?EIO=4&transport=polling&sid="+sid, nil); res.StatusCode != 400 {
		t.Fatalf("owner gone: %d", res.StatusCode)
	}
	if sb = b.srv.Stats(); sb.Forwarded != 3 || sb.ForwardFailed != 1 {
		t.Errorf("b: forwarded %d failed %d", sb.Forwarded, sb.ForwardFailed)
	}
}

// Closing reasons are counted one by one, a reason of nobody's as "other".
func TestStatsCloseReasons(t *testing.T) {
	srv, hs, sessions, _ := newServer(t, Options{PingInterval: time.Hour})
	for _, reason := range []string{ReasonForcedClose, ReasonForcedClose, "made up"} {
		handshake(t, hs)
		s := <-sessions
		s.finish(reason, nil, 0)
	}
	st := srv.Stats()
	if st.Closed[ReasonForcedClose] != 2 || st.Closed["other"] != 1 || st.Closed[ReasonPingTimeout] != 0 || st.Sessions[Polling] != 0 {
		t.Errorf("closed %v, sessions %v", st.Closed, st.Sessions)
	}
}
