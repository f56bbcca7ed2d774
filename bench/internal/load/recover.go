package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RecoverParams configure the recover scenario: the cost of
// connection-state recovery across two nodes of a cluster.
type RecoverParams struct {
	// PubAddr is the other node: the publisher's, and the one the client
	// comes back to. Config.Addr is the node the client first connects to.
	PubAddr string
	// Ks are the numbers of events the client misses, one Result each.
	Ks []int
	// Size is the payload string's length in bytes.
	Size int
	// Window caps the events published but not yet seen by the witness.
	Window int
	// Settle is the wait after the client drops, before the events are
	// published, so its node has kept the session (default 300ms).
	Settle time.Duration
	// WaitFor bounds one recovery (default 30s).
	WaitFor time.Duration
}

// Recover measures, for each K of p.Ks: a client C connected to node B
// (Config.Addr) receives one event (its offset), drops its connection,
// misses K events broadcast from node A (PubAddr), then comes back to node
// A with its pid and offset. It reports whether C was recovered (same
// socket id), how many of the K it got back, in order or not, and the time
// from its CONNECT to its CONNECT answer and to the last missed event. A
// witness client on B proves each event went through the broker before C
// comes back.
func Recover(ctx context.Context, c Config, p RecoverParams) ([]*Result, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkLoopbackAddr(p.PubAddr); err != nil {
		return nil, fmt.Errorf("recover: -pub-addr: %w", err)
	}
	if len(p.Ks) == 0 {
		return nil, errors.New("recover: no K")
	}
	if p.Size <= 0 {
		p.Size = 64
	}
	if p.Window <= 0 {
		p.Window = 256
	}
	if p.Settle <= 0 {
		p.Settle = 300 * time.Millisecond
	}
	if p.WaitFor <= 0 {
		p.WaitFor = 30 * time.Second
	}
	total := len(p.Ks)
	for _, k := range p.Ks {
		if k <= 0 {
			return nil, fmt.Errorf("recover: K must be positive, got %d", k)
		}
		total += k
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	dial := func(addr string, i int) (*sioConn, error) {
		dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
		defer cancel()
		return connectSIO(dctx, addr, cfg.Path, i, cfg.ReadBuffer)
	}
	pub, err := dial(p.PubAddr, 0)
	if err != nil {
		return nil, fmt.Errorf("recover: the publisher could not connect to %s: %w", p.PubAddr, err)
	}
	defer pub.close()
	wit, err := dial(cfg.Addr, 1)
	if err != nil {
		return nil, fmt.Errorf("recover: the witness could not connect to %s: %w", cfg.Addr, err)
	}
	defer wit.close()
	l, err := newLoop()
	if err != nil {
		return nil, err
	}
	defer l.close()
	if _, err := l.add(pub.ws, -1); err != nil {
		return nil, err
	}
	if _, err := l.add(wit.ws, 0); err != nil {
		return nil, err
	}
	// seen[s]: the witness has event s. Sequence numbers run on over the Ks.
	seen := make([]bool, total)
	witnessed := 0
	var loopErr error
	bad := 0
	onMsg := func(c *lconn, op byte, msg []byte) {
		pk, ok := sioMessage(c, op, msg, func(error) { bad++ })
		if !ok || pk.typ != sioEvent || c.idx < 0 {
			return
		}
		if seq, _, ok := parseStamp(pk.data); ok && seq >= 0 && seq < int64(total) && !seen[seq] {
			seen[seq] = true
			witnessed++
		}
	}
	pump := func(d time.Duration) {
		if loopErr == nil {
			_, loopErr = l.poll(d, onMsg)
		}
	}
	epoch := time.Now()
	var buf []byte
	publish := func(seq int64) error {
		var stamp [64]byte
		buf = appendEvent(buf[:0], "broadcast", -1, stampArg(stamp[:0], seq, int64(time.Since(epoch)), p.Size))
		if err := pub.emit(buf); err != nil {
			return fmt.Errorf("recover: publish: %w", err)
		}
		return nil
	}
	// waitWitness pumps until the witness has event upto, for at most bound.
	waitWitness := func(upto int64, bound time.Duration) bool {
		for deadline := time.Now().Add(bound); !seen[upto] && time.Now().Before(deadline) && ctx.Err() == nil && loopErr == nil; {
			pump(5 * time.Millisecond)
		}
		return seen[upto]
	}
	witnessCount := func() int { return witnessed }

	var out []*Result
	seq := int64(0)
	for i, k := range p.Ks {
		if ctx.Err() != nil || loopErr != nil {
			break
		}
		res := newResult("recover", &cfg, map[string]any{"k": k, "pub_addr": p.PubAddr, "size": p.Size, "settle_s": p.Settle.Seconds()})
		out = append(out, res)
		res.set("k", float64(k))
		first := seq
		seq += int64(k) + 1
		if err := recoverOnce(ctx, &cfg, &p, res, i, k, first, publish, waitWitness, witnessCount, pump); err != nil {
			res.note("%v", err)
			res.finish()
			return out, err
		}
		res.set("bad_messages", float64(bad))
		res.finish()
	}
	if loopErr != nil {
		return out, fmt.Errorf("recover: event loop: %w", loopErr)
	}
	return out, ctx.Err()
}

// connectAnswer is the data of a CONNECT answer.
type connectAnswer struct {
	SID string `json:"sid"`
	PID string `json:"pid"`
}

// recoverOnce is one K of the recover scenario; first is the sequence
// number of the event that gives the client its offset, the K missed ones
// follow it.
func recoverOnce(ctx context.Context, cfg *Config, p *RecoverParams, res *Result, i, k int, first int64,
	publish func(int64) error, waitWitness func(int64, time.Duration) bool, witnessCount func() int, pump func(time.Duration)) error {
	// C on node B; source addresses after the publisher's and the witness's.
	var raw []byte
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	cl, err := connectSIOWith(dctx, cfg.Addr, cfg.Path, 2+2*i, cfg.ReadBuffer, connectMsg, &raw)
	cancel()
	if err != nil {
		return fmt.Errorf("recover: the client could not connect to %s: %w", cfg.Addr, err)
	}
	var ans connectAnswer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.SID == "" {
		cl.close()
		return fmt.Errorf("recover: bad CONNECT answer %s", quoteShort(raw))
	}
	if ans.PID == "" {
		cl.close()
		return errors.New("recover: the server sent no pid: connection-state recovery is off")
	}
	// The event that gives C its offset.
	if err := publish(first); err != nil {
		cl.close()
		return err
	}
	offset, err := readOffset(ctx, cl, first, p.WaitFor)
	if err != nil {
		cl.close()
		return err
	}
	if !waitWitness(first, p.WaitFor) {
		cl.close()
		return errors.New("recover: the witness never got the first event")
	}
	// Drop C the way a lost network does: the TCP connection closes
	// without an Engine.IO close packet, so its node keeps the session.
	_ = cl.ws.nc.Close()
	end := time.Now().Add(p.Settle)
	for time.Now().Before(end) && ctx.Err() == nil {
		pump(min(time.Until(end), 10*time.Millisecond))
	}

	// The K events C misses, from node A, at most Window ahead of the
	// witness on node B.
	t0 := time.Now()
	last := first + int64(k)
	before := witnessCount()
	for s := first + 1; s <= last && ctx.Err() == nil; s++ {
		for int(s-first-1)-(witnessCount()-before) >= p.Window {
			if time.Since(t0) > p.WaitFor {
				return fmt.Errorf("recover: the witness fell behind: %d of %d events seen after %v", witnessCount()-before, s-first-1, p.WaitFor)
			}
			pump(5 * time.Millisecond)
		}
		if err := publish(s); err != nil {
			return err
		}
		pump(0)
	}
	if !waitWitness(last, p.WaitFor) {
		return fmt.Errorf("recover: the witness did not get event %d of %d", k, k)
	}
	if n := witnessCount() - before; n != k {
		res.note("the witness got %d of the %d events: the broker lost some", n, k)
	}
	res.set("publish_s", time.Since(t0).Seconds())

	// C comes back, to node A. The server sends the missed events before
	// its CONNECT answer (the client holds them until the CONNECT), so they
	// are counted from the first message on.
	got, dup, disorder, other := 0, 0, 0, 0
	have := make([]bool, k)
	prev := first
	var lastAt time.Time
	onEvent := func(data []byte) {
		s, _, ok := parseStamp(data)
		if !ok || s <= first || s > first+int64(k) {
			other++
			return
		}
		if have[s-first-1] {
			dup++
			return
		}
		have[s-first-1] = true
		got++
		if s < prev {
			disorder++
		}
		prev = s
		lastAt = time.Now()
	}
	auth, _ := json.Marshal(map[string]string{"pid": ans.PID, "offset": offset})
	rctx, cancel := context.WithTimeout(ctx, p.WaitFor)
	defer cancel()
	start := time.Now()
	c2, raw2, err := comeBack(rctx, p.PubAddr, cfg.Path, 3+2*i, cfg.ReadBuffer, auth, onEvent)
	if err != nil {
		if ctx.Err() != nil || cause(err) != "closed" && cause(err) != "reset" {
			return fmt.Errorf("recover: the client could not come back on %s: %w", p.PubAddr, err)
		}
		// The server took the session, then closed the connection while
		// replaying: a result (a bound of the server's), not a failure of
		// the bench.
		res.set("recovered", 0)
		res.set("closed_during_replay", 1)
		res.set("missed_received", float64(got))
		res.note("the server closed the connection during the replay, after %d of the %d missed events: %v", got, k, err)
		return nil
	}
	defer c2.close()
	// From the WebSocket dial to the CONNECT answer.
	connectAt := time.Now()
	res.set("connect_ms", ms(connectAt.Sub(start)))
	var ans2 connectAnswer
	_ = json.Unmarshal(raw2, &ans2)
	recovered := ans2.SID == ans.SID
	res.set("recovered", float64(btoi(recovered)))
	// Events after the CONNECT answer: none are expected, listen a little.
	_ = c2.ws.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for got < k || !recovered {
		pk, err := c2.next()
		if err != nil {
			break
		}
		if pk.typ == sioEvent {
			onEvent(pk.data)
		}
	}
	res.set("missed_received", float64(got))
	if got > 0 {
		done := connectAt
		if lastAt.After(done) {
			done = lastAt
		}
		d := done.Sub(start)
		res.set("recovery_ms", ms(d))
		res.set("replayed_per_s", float64(got)/d.Seconds())
	}
	res.set("duplicates", float64(dup))
	res.set("out_of_order", float64(disorder))
	res.set("other_events", float64(other))
	if recovered && got < k {
		res.note("recovered, but only %d of the %d missed events came back", got, k)
	}
	if !recovered {
		res.note("not recovered: a new socket (%s, was %s)", ans2.SID, ans.SID)
	}
	return nil
}

// comeBack connects to addr with a CONNECT carrying auth (pid and
// offset), handing every event that arrives before and with the answer to
// onEvent, and returns the connection and the answer's data.
func comeBack(ctx context.Context, addr, path string, i, readBuf int, auth []byte, onEvent func([]byte)) (*sioConn, []byte, error) {
	ws, err := dialWS(ctx, addr, path+"?EIO=4&transport=websocket", i, readBuf)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.nc.SetDeadline(dl)
	}
	fail := func(phase string, err error) (*sioConn, []byte, error) {
		ws.nc.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, nil, &phaseError{phase: phase, err: err}
	}
	_, msg, err := ws.read()
	if err != nil {
		return fail("open", err)
	}
	if _, err := parseOpen(msg); err != nil {
		return fail("open", err)
	}
	if err := ws.writeText(append([]byte{eioMessage, sioConnect}, auth...)); err != nil {
		return fail("connect", err)
	}
	c := &sioConn{ws: ws}
	for {
		p, err := c.next()
		if err != nil {
			return fail("connect", err)
		}
		switch p.typ {
		case sioEvent:
			onEvent(p.data)
		case sioConnect:
			_ = ws.nc.SetDeadline(noDeadline)
			return c, append([]byte(nil), p.data...), nil
		case sioConnectError:
			return fail("connect", &protocolError{"connect error: " + quoteShort(p.data)})
		}
	}
}

// readOffset reads the client's events until the one with sequence number
// seq, and returns its offset: the last argument, which a server with
// connection-state recovery appends to every recoverable event.
func readOffset(ctx context.Context, c *sioConn, seq int64, bound time.Duration) (string, error) {
	dl := time.Now().Add(bound)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = c.ws.nc.SetReadDeadline(dl)
	defer c.ws.nc.SetReadDeadline(noDeadline)
	for {
		pk, err := c.next()
		if err != nil {
			return "", fmt.Errorf("recover: waiting for the first event: %w", err)
		}
		if pk.typ != sioEvent {
			continue
		}
		if s, _, ok := parseStamp(pk.data); !ok || s != seq {
			continue
		}
		var args []json.RawMessage
		if err := json.Unmarshal(pk.data, &args); err != nil || len(args) < 3 {
			return "", fmt.Errorf("recover: the event has no offset (is recovery on?): %s", quoteShort(pk.data))
		}
		var off string
		if err := json.Unmarshal(args[len(args)-1], &off); err != nil || off == "" {
			return "", fmt.Errorf("recover: bad offset in %s", quoteShort(pk.data))
		}
		return off, nil
	}
}
