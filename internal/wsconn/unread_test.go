package wsconn

import (
	"errors"
	"testing"
	"time"
)

// waitUnread waits until c.Unread reports want: the kernel takes a moment
// to queue what the peer wrote.
func waitUnread(t *testing.T, c *Conn, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := c.Unread()
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Unread = %d, want %d", n, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestUnread counts bytes in the kernel, then in the connection's buffer
// once a Read took the first of two messages, then none.
func TestUnread(t *testing.T) {
	c, cl := rawPair(t, listen(t), 0)
	waitUnread(t, c, 0)
	a, b := clientFrame(true, 1, []byte("2probe")), clientFrame(true, 1, []byte("5"))
	if _, err := cl.Write(append(append([]byte{}, a...), b...)); err != nil {
		t.Fatal(err)
	}
	waitUnread(t, c, len(a)+len(b)) // all in the kernel
	if _, msg, err := c.Read(); err != nil || string(msg) != "2probe" {
		t.Fatalf("Read %q, %v", msg, err)
	}
	waitUnread(t, c, len(b)) // read with the first, not delivered
	if _, msg, err := c.Read(); err != nil || string(msg) != "5" {
		t.Fatalf("Read %q, %v", msg, err)
	}
	waitUnread(t, c, 0)
}

// TestUnreadUnknown: without descriptor access the count is unknown.
func TestUnreadUnknown(t *testing.T) {
	c, _ := rawPairWith(t, listen(t), 0, false)
	if _, err := c.Unread(); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Unread without descriptor access: %v, want ErrUnsupported", err)
	}
}
