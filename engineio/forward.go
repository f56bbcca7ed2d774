package engineio

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Forwarding lets every node of a cluster serve every request, so that a
// load balancer needs no sticky sessions: a polling request or a websocket
// upgrade that names a session another node holds is passed to that node
// over HTTP, and its answer passed back. The node that holds a session is
// named in the session's id ("<node>.<random>"), and Peers says where each
// live node is reached.
//
// Every node of a cluster must be mounted at the same path, with the same
// options: a forwarded request is answered by the owner exactly as if it
// had come to it directly (its order, limits and errors), and a session
// whose node is gone answers "Session ID unknown", as the reference does,
// so that its client reconnects (and, with connection-state recovery,
// recovers).
type Forwarding struct {
	// Node names this node in the session ids it issues: 1 to 32 letters,
	// digits, "_" or "-", unique in the cluster.
	Node string
	// Peers finds the other nodes.
	Peers Peers
	// Transport carries forwarded requests (default: a dedicated
	// http.Transport that keeps connections to the peers open).
	Transport http.RoundTripper
}

// Peers is a directory of the live nodes of a cluster (adapter/cluster's
// Peers keeps one over the cluster's broker).
type Peers interface {
	// Lookup returns the base URL ("http://10.0.0.7:3000") at which the
	// live node named node is reached by the other nodes.
	Lookup(node string) (baseURL string, ok bool)
	// Pick returns the base URL of a live node other than this one that
	// takes new sessions, for the handshakes a draining node receives.
	Pick() (baseURL string, ok bool)
}

// ForwardedHeader marks a forwarded request with the name of the node that
// forwarded it: a node never forwards such a request again, so a stale
// directory cannot make requests loop.
const ForwardedHeader = "Sockio-Forwarded-By"

var nodePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// CheckNodeName returns an error when name cannot be a Forwarding.Node.
func CheckNodeName(name string) error {
	if !nodePattern.MatchString(name) {
		return fmt.Errorf("engineio: bad node name %q: 1 to 32 letters, digits, \"_\" or \"-\"", name)
	}
	return nil
}

func (f *Forwarding) check() error {
	if err := CheckNodeName(f.Node); err != nil {
		return err
	}
	if f.Peers == nil {
		return errors.New("engineio: Forwarding.Peers is nil")
	}
	return nil
}

// sidNode returns the node named in session id sid, "" for none.
func sidNode(sid string) string {
	node, _, ok := strings.Cut(sid, ".")
	if !ok {
		return ""
	}
	return node
}

// forwarder passes requests to the nodes that hold their sessions.
type forwarder struct {
	self  string
	peers Peers
	proxy *httputil.ReverseProxy
	stats *counters // the server's
	rt    http.RoundTripper

	// polls are the long polls forwarded through this node now: when its
	// server closes, their owners are asked to answer them at once (see
	// releaseHeader), or an HTTP server's shutdown would wait for each,
	// up to a ping interval, before the node can exit.
	mu      sync.Mutex
	polls   map[*http.Request]string // the forwarded request → its owner's URL
	closing bool
}

// releaseHeader, on a forwarded GET, asks the session's owner to answer
// the session's pending poll now (with what it has, or a noop) instead of
// serving a poll: the forwarding node is going away.
const releaseHeader = "Sockio-Release-Poll"

type targetKey struct{}

// target is what a forwarded request's context carries for the proxy.
type target struct {
	base    *url.URL
	upgrade bool
}

func newForwarder(f *Forwarding, cors bool, stats *counters) *forwarder {
	rt := f.Transport
	if rt == nil {
		rt = &http.Transport{
			DialContext: (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
			// A cluster is a few nodes: keep enough connections to each for
			// the long polls that wait there at once.
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			// Bodies are Engine.IO payloads: compressing them twice costs
			// CPU for nothing on a cluster's network.
			DisableCompression: true,
		}
	}
	fw := &forwarder{self: f.Node, peers: f.Peers, stats: stats, rt: rt, polls: map[*http.Request]string{}}
	fw.proxy = &httputil.ReverseProxy{
		Transport: rt,
		Rewrite: func(pr *httputil.ProxyRequest) {
			t := pr.In.Context().Value(targetKey{}).(*target)
			pr.SetURL(t.base)
			// The owner checks Origin against Host (same-origin pages):
			// it must see the Host the client sent.
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(ForwardedHeader, f.Node)
		},
		ModifyResponse: func(res *http.Response) error {
			if cors {
				// This node answered CORS already, with the same options:
				// twice would make a browser refuse the answer.
				for k := range res.Header {
					if strings.HasPrefix(k, "Access-Control-") {
						delete(res.Header, k)
					}
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// The owner went away (killed, restarted): for the client the
			// session is gone, as when a request reaches a node that
			// restarted, and it reconnects.
			fw.stats.forwardFailed.Add(1)
			t := r.Context().Value(targetKey{}).(*target)
			if t.upgrade {
				writeUpgradeError(w, CodeUnknownSID, "")
				return
			}
			writeError(w, CodeUnknownSID, "")
		},
	}
	return fw
}

// forward passes r to the node that holds session sid, if that is another
// live node; false when it did not (r was forwarded already, the session
// is this node's, or its node is unknown), for the caller to answer.
func (fw *forwarder) forward(w http.ResponseWriter, r *http.Request, sid string, upgrade bool) bool {
	if fw == nil || r.Header.Get(ForwardedHeader) != "" {
		return false
	}
	node := sidNode(sid)
	if node == "" || node == fw.self {
		return false
	}
	base, ok := fw.peers.Lookup(node)
	if !ok {
		return false
	}
	return fw.to(w, r, base, upgrade)
}

// pass passes a new session's handshake to another live node, for a
// draining node; false when there is none.
func (fw *forwarder) pass(w http.ResponseWriter, r *http.Request) bool {
	if fw == nil || r.Header.Get(ForwardedHeader) != "" {
		return false
	}
	base, ok := fw.peers.Pick()
	if !ok {
		return false
	}
	return fw.to(w, r, base, false)
}

func (fw *forwarder) to(w http.ResponseWriter, r *http.Request, base string, upgrade bool) bool {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return false
	}
	u.Path, u.RawPath, u.RawQuery = "", "", ""
	fw.stats.forwarded.Add(1)
	ctx := context.WithValue(r.Context(), targetKey{}, &target{base: u, upgrade: upgrade})
	if r.Method == http.MethodGet && !upgrade && r.URL.Query().Get("sid") != "" {
		fw.mu.Lock()
		closing := fw.closing
		if !closing {
			fw.polls[r] = u.String()
		}
		fw.mu.Unlock()
		if closing {
			fw.release(r, u.String())
		}
		defer func() {
			fw.mu.Lock()
			delete(fw.polls, r)
			fw.mu.Unlock()
		}()
	}
	fw.proxy.ServeHTTP(w, r.WithContext(ctx))
	return true
}

// close asks the owners of the long polls forwarded through this node to
// answer them now; new ones are released as they come.
func (fw *forwarder) close() {
	if fw == nil {
		return
	}
	fw.mu.Lock()
	fw.closing = true
	polls := make(map[*http.Request]string, len(fw.polls))
	maps.Copy(polls, fw.polls)
	fw.mu.Unlock()
	for r, base := range polls {
		go fw.release(r, base)
	}
}

// release asks the owner at base to answer the poll r forwards.
func (fw *forwarder) release(r *http.Request, base string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+r.URL.Path+"?"+r.URL.RawQuery, nil)
	if err != nil {
		return
	}
	req.Host = r.Host
	req.Header.Set(ForwardedHeader, fw.self)
	req.Header.Set(releaseHeader, "1")
	if o := r.Header.Get("Origin"); o != "" {
		req.Header.Set("Origin", o)
	}
	if res, err := fw.rt.RoundTrip(req); err == nil {
		res.Body.Close()
	}
}

// releasePoll answers s's pending poll now, with what is queued or a noop
// (a releaseHeader request).
func (s *Session) releasePoll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.poll != nil {
		s.noopPoll = s.poll
		s.wakePollLocked()
	}
}
