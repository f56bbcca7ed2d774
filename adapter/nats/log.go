package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sockio/sockio/adapter/cluster"
)

// readBatch is how many messages ReadFrom asks the server for at once.
const readBatch = 256

// OffsetAfter implements cluster.Log: offsets are stream sequences.
func (r *RecoveringBroker) OffsetAfter(x, y string) bool {
	a, errA := strconv.ParseUint(x, 10, 64)
	b, errB := strconv.ParseUint(y, 10, 64)
	return errA != nil || errB != nil || a > b
}

// ReadFrom implements cluster.Log: it reads the namespace's messages after
// offset with a short-lived ordered consumer, up to the end of the stream
// as it was when the consumer started.
//
// An offset is gone when it is not a stream sequence, is past the stream's
// end, or when a message after it was dropped: offset+1 < the first
// sequence. When exactly the message at offset was dropped but every later
// one is kept, the client missed nothing that was lost and is recovered.
func (r *RecoveringBroker) ReadFrom(ctx context.Context, nsp, offset string, fn func(m *cluster.Message, offset string) bool) error {
	if r.err != nil {
		return r.err
	}
	off, err := strconv.ParseUint(offset, 10, 64)
	if err != nil || off == 0 {
		return fmt.Errorf("%w: offset %q", cluster.ErrOffsetGone, offset)
	}
	st, err := r.stores.stream(ctx)
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		r.stores.forget(err)
		return fmt.Errorf("nats adapter: stream %s: %w", r.opts.StreamName, err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	if off > last || off+1 < first {
		return fmt.Errorf("%w: offset %d, stream %s holds %d to %d", cluster.ErrOffsetGone, off, r.opts.StreamName, first, last)
	}
	if off == last {
		return nil
	}
	subject := newSubjects(r.opts.Prefix, nsp).nsp
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{subject},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       off + 1,
		InactiveThreshold: 10 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("nats adapter: read %s from %d: %w", subject, off+1, err)
	}
	defer r.dropConsumer(cons)
	ci := cons.CachedInfo()
	if ci == nil {
		return fmt.Errorf("nats adapter: read %s from %d: no consumer info", subject, off+1)
	}
	// The consumer counted the namespace's messages after offset when it
	// was created; reading that many ends the read even if more arrive.
	left := ci.NumPending
	for left > 0 {
		n, stop, err := r.readBatch(ctx, cons, subject, &left, fn)
		if err != nil || stop {
			return err
		}
		if n == 0 {
			// The messages counted were removed (aged out) meanwhile.
			return nil
		}
	}
	return nil
}

// readBatch fetches and passes on one batch; it returns how many messages
// came and whether fn asked to stop.
func (r *RecoveringBroker) readBatch(ctx context.Context, cons jetstream.Consumer, subject string, left *uint64, fn func(*cluster.Message, string) bool) (int, bool, error) {
	// Messages counted may age out while reading: never wait long for them.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	batch, err := cons.Fetch(int(min(*left, readBatch)), jetstream.FetchContext(ctx))
	if err != nil {
		return 0, false, fmt.Errorf("nats adapter: read %s: %w", subject, err)
	}
	n := 0
	for msg := range batch.Messages() {
		n++
		*left--
		md, err := msg.Metadata()
		if err != nil {
			r.c.malformed.Add(1)
			continue
		}
		m, err := decodeMessage(msg.Data())
		if err != nil {
			bad := r.c.malformed.Add(1)
			r.warn("nats adapter: malformed message skipped in the log", "subject", subject, "seq", md.Sequence.Stream, "err", err, "malformed", bad)
			continue
		}
		if !fn(m, strconv.FormatUint(md.Sequence.Stream, 10)) {
			return n, true, nil
		}
		if md.NumPending == 0 {
			*left = 0
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, natsgo.ErrTimeout) {
		return n, false, fmt.Errorf("nats adapter: read %s: %w", subject, err)
	}
	return n, false, nil
}

func (r *RecoveringBroker) dropConsumer(cons jetstream.Consumer) {
	ci := cons.CachedInfo()
	if ci == nil || !r.nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.js.DeleteConsumer(ctx, r.opts.StreamName, ci.Name)
}
