package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockio/sockio/adapter/internal/wire"
	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/internal/notepack"
)

// PeersNamespace is the broker namespace on which Peers talk. It does not
// start with "/", so it is never a Socket.IO namespace (and a Node.js node
// sharing the broker ignores it).
const PeersNamespace = "sockio-peers"

// PeersOptions configure a Peers directory.
type PeersOptions struct {
	// Node names this node in the session ids it issues (default: 16
	// random hex digits, new at each start). See engineio.Forwarding.Node.
	Node string
	// URL is where the other nodes reach this one: its scheme, host and
	// port ("http://10.0.0.7:3000"), an address of the cluster's own
	// network. Required.
	URL string
	// Interval is how often the node says it is alive (default 2s).
	Interval time.Duration
	// Timeout drops a node unheard for this long (default 3 × Interval):
	// requests for its sessions are then answered "Session ID unknown",
	// and their clients reconnect.
	Timeout time.Duration
	// Logger receives nodes joining and leaving (default slog.Default()).
	Logger *slog.Logger
}

// Peers is the directory of a cluster's live nodes that request forwarding
// needs (engineio.Forwarding): each node says on the broker, every
// Interval, its name, the URL the others reach it at, and whether it is
// draining. It costs one small message per node per Interval.
type Peers struct {
	b    Broker
	opts PeersOptions

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	nodes    map[string]peer
	sub      Subscription
	draining bool
	started  bool

	replying atomic.Bool // an answer to an InitialHeartbeat is on its way
}

type peer struct {
	url      string
	draining bool
	seen     time.Time
}

// maxPeers bounds the directory: names come from the wire.
const maxPeers = 1024

// NewPeers returns the directory of the cluster b links. Start it before
// the server takes requests.
func NewPeers(b Broker, opts PeersOptions) (*Peers, error) {
	if opts.Node == "" {
		opts.Node = randomID()
	}
	if err := engineio.CheckNodeName(opts.Node); err != nil {
		return nil, err
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cluster: bad PeersOptions.URL %q: want scheme://host:port", opts.URL)
	}
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * opts.Interval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Peers{b: b, opts: opts, ctx: ctx, cancel: cancel, nodes: make(map[string]peer)}, nil
}

// Node returns this node's name.
func (p *Peers) Node() string { return p.opts.Node }

// Forwarding returns the engineio.Forwarding option that uses p, for
// sockio.Options.Forwarding.
func (p *Peers) Forwarding() *engineio.Forwarding {
	return &engineio.Forwarding{Node: p.opts.Node, Peers: p}
}

// Start subscribes to the broker and says the node is here; the other
// nodes answer at once, so the directory is full when Start returns
// (give or take the broker's delivery time).
func (p *Peers) Start(ctx context.Context) error {
	sub, err := p.b.Subscribe(ctx, PeersNamespace, p.opts.Node, p)
	if err != nil {
		return fmt.Errorf("failed to subscribe to the cluster's peers: %w", err)
	}
	p.mu.Lock()
	p.sub, p.started = sub, true
	p.mu.Unlock()
	p.publish(InitialHeartbeat)
	p.wg.Add(1)
	go p.beat()
	return nil
}

// Close says the node is leaving and stops.
func (p *Peers) Close() error {
	p.mu.Lock()
	sub, started := p.sub, p.started
	p.started = false
	p.mu.Unlock()
	if !started {
		return nil
	}
	p.publish(AdapterClose)
	p.cancel()
	p.wg.Wait()
	return sub.Cancel()
}

// Drain says the node takes no new sessions: the others stop picking it
// for handshakes, and still forward requests of its open sessions.
func (p *Peers) Drain() {
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	p.publish(Heartbeat)
}

// Lookup implements engineio.Peers.
func (p *Peers) Lookup(node string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.nodes[node]
	if !ok || time.Since(n.seen) > p.opts.Timeout {
		return "", false
	}
	return n.url, true
}

// Pick implements engineio.Peers: a random live node that is not
// draining.
func (p *Peers) Pick() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var live []string
	for _, n := range p.nodes {
		if !n.draining && time.Since(n.seen) <= p.opts.Timeout {
			live = append(live, n.url)
		}
	}
	if len(live) == 0 {
		return "", false
	}
	return live[rand.IntN(len(live))], true
}

// Live returns the names of the live nodes this one knows, itself not
// included.
func (p *Peers) Live() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for name, n := range p.nodes {
		if time.Since(n.seen) <= p.opts.Timeout {
			out = append(out, name)
		}
	}
	return out
}

func (p *Peers) beat() {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			p.publish(Heartbeat)
			p.expire()
		}
	}
}

func (p *Peers) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, n := range p.nodes {
		if time.Since(n.seen) > p.opts.Timeout {
			delete(p.nodes, name)
			p.opts.Logger.Info("cluster: peer gone", "node", name, "url", n.url)
		}
	}
}

func (p *Peers) publish(typ MessageType) {
	p.mu.Lock()
	draining := p.draining
	p.mu.Unlock()
	data := notepack.Map{{Key: "url", Value: p.opts.URL}, {Key: "draining", Value: draining}}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.Interval)
	defer cancel()
	_, err := p.b.Publish(ctx, &Message{UID: p.opts.Node, NSP: PeersNamespace, Type: typ, Data: data})
	if err != nil && !errors.Is(err, context.Canceled) {
		p.opts.Logger.Warn("cluster: failed to announce the node to its peers", "err", err)
	}
}

// HandleMessage implements Handler.
func (p *Peers) HandleMessage(m *Message, _ string) {
	if m.NSP != PeersNamespace || m.UID == p.opts.Node || m.UID == "" {
		return
	}
	switch m.Type {
	case InitialHeartbeat, Heartbeat:
		u, _ := wire.String(wire.Field(m.Data, "url"))
		d, _ := wire.Field(m.Data, "draining").(bool)
		if !validPeerURL(u) || len(m.UID) > 64 {
			return
		}
		p.mu.Lock()
		old, known := p.nodes[m.UID]
		if known || len(p.nodes) < maxPeers {
			p.nodes[m.UID] = peer{url: u, draining: d, seen: time.Now()}
		}
		p.mu.Unlock()
		if !known {
			p.opts.Logger.Info("cluster: peer joined", "node", m.UID, "url", u)
		} else if d && !old.draining {
			p.opts.Logger.Info("cluster: peer draining", "node", m.UID)
		}
		if m.Type == InitialHeartbeat && p.replying.CompareAndSwap(false, true) {
			// A new node: tell it about this one now, not in Interval.
			// One answer at a time, however many arrive.
			go func() {
				defer p.replying.Store(false)
				if p.ctx.Err() == nil {
					p.publish(Heartbeat)
				}
			}()
		}
	case AdapterClose:
		p.mu.Lock()
		delete(p.nodes, m.UID)
		p.mu.Unlock()
		p.opts.Logger.Info("cluster: peer left", "node", m.UID)
	}
}

// HandleResponse implements Handler; peers send none.
func (p *Peers) HandleResponse(*Message) {}

func validPeerURL(s string) bool {
	if len(s) > 512 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
