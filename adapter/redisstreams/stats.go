package redisstreams

import "sync/atomic"

// Stats counts, since the Broker was made, what it carried and what went
// or may have gone missing.
type Stats struct {
	// Published counts the messages Redis accepted (XADD or PUBLISH).
	Published uint64
	// NotPublished counts the publishes that failed (Redis down or slow,
	// or a message that could not be encoded).
	NotPublished uint64
	// Delivered counts the messages and responses handed to a Handler.
	Delivered uint64
	// Malformed counts the entries and Pub/Sub messages that could not be
	// decoded (logged, skipped).
	Malformed uint64
	// ReadErrors counts the failed XREADs (the reader then resumes from
	// the last id it saw).
	ReadErrors uint64
	// Gaps counts the times the stream was trimmed past the reader's last
	// id while it was away or behind: entries it never saw.
	Gaps uint64
}

type counters struct {
	published, notPublished, delivered, malformed, readErrors, gaps atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Published:    c.published.Load(),
		NotPublished: c.notPublished.Load(),
		Delivered:    c.delivered.Load(),
		Malformed:    c.malformed.Load(),
		ReadErrors:   c.readErrors.Load(),
		Gaps:         c.gaps.Load(),
	}
}
