package redisstreams

import (
	"context"
	"fmt"

	"github.com/sockio/sockio/adapter/cluster"
)

// OffsetAfter implements cluster.Log: stream ids compare by time, then
// sequence.
func (b *Broker) OffsetAfter(x, y string) bool {
	a, okA := parseID(x)
	c, okC := parseID(y)
	return !okA || !okC || c.less(a)
}

// ReadFrom calls fn with each message of nsp after offset in its stream,
// oldest first, reading XRANGE pages of ReadCount entries. As the
// reference's restoreSession, it first checks that the entry offset is
// still in the stream: if it was trimmed (or never existed, or offset is
// not an entry id) the events in between may be gone, and it returns
// cluster.ErrOffsetGone.
//
// The read is bounded: at most MaxLen/ReadCount + 10 pages, so that a
// stream written faster than it is read cannot keep it going forever.
func (b *Broker) ReadFrom(ctx context.Context, nsp, offset string, fn func(m *cluster.Message, offset string) bool) error {
	from, ok := parseID(offset)
	if !ok {
		return fmt.Errorf("redisstreams: reading from %q: %w", offset, cluster.ErrOffsetGone)
	}
	stream := streamFor(&b.opts, nsp)
	there, err := b.rdb.XRange(ctx, stream, offset, offset).Result()
	if err != nil {
		return fmt.Errorf("redisstreams: reading %s from %s: %w", stream, offset, err)
	}
	if len(there) == 0 {
		return fmt.Errorf("redisstreams: reading %s from %s: %w", stream, offset, cluster.ErrOffsetGone)
	}
	pages := b.opts.MaxLen/b.opts.ReadCount + 10
	for range pages {
		entries, err := b.rdb.XRangeN(ctx, stream, from.next().String(), "+", b.opts.ReadCount).Result()
		if err != nil {
			return fmt.Errorf("redisstreams: reading %s after %s: %w", stream, from, err)
		}
		for _, e := range entries {
			if id, ok := parseID(e.ID); ok {
				from = id
			}
			m, ok, err := decodeEntry(e.Values)
			if !ok || (err == nil && m.NSP != nsp) {
				continue
			}
			if err != nil {
				b.malformed(err, "entry", e.ID)
				continue
			}
			if !fn(m, e.ID) {
				return nil
			}
		}
		if int64(len(entries)) < b.opts.ReadCount {
			return nil
		}
	}
	b.opts.Logger.Warn("redisstreams: stopped reading a stream that grows faster than it is read",
		"stream", stream, "nsp", nsp, "at", from.String())
	return nil
}
