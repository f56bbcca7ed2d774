package ws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// A large binary message streams both ways: the client writes it through
// Writer in fragments, the server's handler reads it as it arrives (each
// Read returns at most a fragment, long before the end), and writes it back
// through Writer, cut at the server's FragmentSize.
func TestStreamBothWays(t *testing.T) {
	const size = 5 << 20
	var mu sync.Mutex
	var reads, maxRead int
	var sum [32]byte
	srv := &Server{ConnOptions: ConnOptions{FragmentSize: 64 << 10, PingInterval: -1}}
	srv.OnBinaryStream = func(c *Conn, r io.Reader) {
		w, err := c.Writer(context.Background(), Binary)
		if err != nil {
			t.Error(err)
			return
		}
		h := sha256.New()
		buf := make([]byte, 1<<20)
		for {
			n, err := r.Read(buf)
			mu.Lock()
			reads++
			maxRead = max(maxRead, n)
			mu.Unlock()
			h.Write(buf[:n])
			if _, werr := w.Write(buf[:n]); werr != nil {
				t.Error(werr)
				return
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
		copy(sum[:], h.Sum(nil))
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}
	u := startServer(t, srv)

	// The client reads the echo frame by frame with a raw peer, to see the
	// fragment sizes on the wire.
	p := dialRaw(t, strings.TrimPrefix(u, "ws://"))
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	go func() {
		// Fragments of 100 KiB from the client side.
		for off := 0; off < size; off += 100 << 10 {
			end := min(off+100<<10, size)
			op := byte(opCont)
			if off == 0 {
				op = opBinary
			}
			b0 := op
			if end == size {
				b0 |= 0x80
			}
			_ = p.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := p.c.Write(encodeFrame(b0, payload[off:end], true)); err != nil {
				return
			}
		}
	}()
	op, data, frames, _ := p.readMessage()
	if op != opBinary || !bytes.Equal(data, payload) {
		t.Fatalf("echo: op %d, %d bytes", op, len(data))
	}
	for _, f := range frames {
		if len(f.payload) > 64<<10 {
			t.Fatalf("fragment of %d bytes, FragmentSize is 64 KiB", len(f.payload))
		}
	}
	if len(frames) < size/(64<<10) {
		t.Fatalf("%d frames for %d bytes", len(frames), size)
	}
	mu.Lock()
	defer mu.Unlock()
	if sum != sha256.Sum256(payload) || reads < 5 || maxRead > 100<<10 {
		t.Fatalf("server read %d times (largest %d bytes); sum ok %v", reads, maxRead, sum == sha256.Sum256(payload))
	}
}

// The client's Writer fragments at its FragmentSize too, and a client
// Conn reads streams with OnBinaryStream.
func TestClientStream(t *testing.T) {
	var mu sync.Mutex
	var got []int // sizes of the server's reads, each at most one frame
	srv := &Server{ConnOptions: ConnOptions{PingInterval: -1}}
	srv.OnBinaryStream = func(c *Conn, r io.Reader) {
		buf := make([]byte, 1<<20)
		total := 0
		for {
			n, err := io.ReadAtLeast(r, buf, 1)
			total += n
			if err != nil {
				break
			}
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		}
		_ = c.SendText([]byte("done"))
	}
	u := startServer(t, srv)
	ev := newEvents()
	c, err := Dial(context.Background(), u, &DialOptions{Handlers: ev.handlers(), ConnOptions: ConnOptions{FragmentSize: 16 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Writer(context.Background(), Binary)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := w.Write(make([]byte, 10000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after Close")
	}
	ev.wait(t, "done", func() bool { return len(ev.texts) == 1 })
	mu.Lock()
	for _, n := range got {
		if n > 16<<10 {
			t.Fatalf("a read of %d bytes: client frames over FragmentSize", n)
		}
	}
	mu.Unlock()
	_ = c.Close(CloseNormal, "")
	<-c.Done()
}

// Messages queued before a Writer go out before the streamed message, and
// those queued while it is open go out after it.
func TestWriterOrder(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers()}
	u := startServer(t, srv)
	cev := newEvents()
	c, err := Dial(context.Background(), u, &DialOptions{Handlers: cev.handlers()})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SendText([]byte("1"))
	w, err := c.Writer(context.Background(), Text)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SendText([]byte("3"))
	_, _ = io.WriteString(w, "2")
	_ = w.Close()
	ev.wait(t, "three messages", func() bool { return len(ev.texts) == 3 })
	if strings.Join(ev.texts, "") != "123" {
		t.Fatalf("order %q", ev.texts)
	}
	_ = c.Close(CloseNormal, "")
	<-c.Done()
}

// A Writer waiting for its turn gives up when its context ends, and the
// turn it held in the queue is skipped.
func TestWriterContext(t *testing.T) {
	ev := newEvents()
	srv := &Server{Handlers: ev.handlers()}
	u := startServer(t, srv)
	c, err := Dial(context.Background(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Writer(context.Background(), Text)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Writer(ctx, Text); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Writer: %v", err)
	}
	_, _ = io.WriteString(first, "a")
	_ = first.Close()
	_ = c.SendText([]byte("b"))
	ev.wait(t, "two messages", func() bool { return len(ev.texts) == 2 })
	if ev.texts[0] != "a" || ev.texts[1] != "b" {
		t.Fatalf("got %q", ev.texts)
	}
	if _, err := c.Writer(context.Background(), MessageType(9)); err == nil {
		t.Fatal("Writer accepted a control opcode")
	}
	_ = c.Close(CloseNormal, "")
	<-c.Done()
	if _, err := c.Writer(context.Background(), Binary); !errors.Is(err, ErrClosed) {
		t.Fatalf("Writer after close: %v", err)
	}
}

// A stream handler that stops early leaves the rest to be discarded, and
// the next message arrives intact.
func TestStreamHandlerStopsEarly(t *testing.T) {
	srv := &Server{ConnOptions: ConnOptions{PingInterval: -1}}
	srv.OnBinaryStream = func(c *Conn, r io.Reader) {
		b := make([]byte, 4)
		_, _ = io.ReadFull(r, b)
		_ = c.SendText(b)
	}
	u := startServer(t, srv)
	p := dialRaw(t, strings.TrimPrefix(u, "ws://"))
	p.send(false, opBinary, []byte("headXXXXXXXX"))
	p.send(true, opCont, bytes.Repeat([]byte("y"), 100000))
	p.send(true, opBinary, []byte("nextZZ"))
	for _, want := range []string{"head", "next"} {
		if _, data, _, _ := p.readMessage(); string(data) != want {
			t.Fatalf("got %q want %q", data, want)
		}
	}
}
