package cluster

import (
	"context"
	"fmt"
	"time"
)

// heartbeats says the node is alive when it published nothing else for
// HeartbeatInterval, and drops the nodes unheard for HeartbeatTimeout, as
// the reference's ClusterAdapterWithHeartbeat.
func (a *Adapter) heartbeats() {
	defer a.wg.Done()
	o := a.c.opts
	tick := min(o.HeartbeatInterval, o.HeartbeatTimeout) / 4
	tick = max(min(tick, time.Second), 5*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case now := <-t.C:
			select {
			case <-a.subscribed:
				if now.Sub(time.Unix(0, a.lastPub.Load())) >= o.HeartbeatInterval {
					_, _ = a.publish(Heartbeat, nil)
				}
			default:
			}
			var gone []string
			a.mu.Lock()
			for uid, seen := range a.nodes {
				if now.Sub(seen) > o.HeartbeatTimeout {
					gone = append(gone, uid)
				}
			}
			a.mu.Unlock()
			for _, uid := range gone {
				a.removeNode(uid, true)
			}
		}
	}
}

// heard notes that node uid is alive: a live node with heartbeats; with a
// ServerCounter, a peer remembered for a while, to name the nodes that did
// not answer a request.
func (a *Adapter) heard(uid string) {
	if uid == "" || uid == emitterUID || uid == a.uid {
		return
	}
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	if a.c.counter != nil {
		if _, known := a.nodes[uid]; !known && len(a.nodes) >= maxNodes {
			for id, t := range a.nodes {
				if now.Sub(t) > peerTTL {
					delete(a.nodes, id)
				}
			}
		}
	}
	if _, known := a.nodes[uid]; !known && len(a.nodes) >= maxNodes {
		return // uids come from the wire: bounded
	}
	a.nodes[uid] = now
}

// peerTTL: with a ServerCounter, a peer heard within it and silent to a
// request is named in the log.
const peerTTL = time.Minute

// silentPeersLocked lists the peers heard within peerTTL that did not
// answer req (ServerCounter mode).
func (a *Adapter) silentPeersLocked(req *request) []string {
	now := time.Now()
	var out []string
	for uid, t := range a.nodes {
		if _, ok := req.answered[uid]; !ok && now.Sub(t) <= peerTTL {
			out = append(out, uid)
		}
	}
	return out
}

// maxNodes bounds the live-node map against a flood of made-up uids.
const maxNodes = 4096

// removeNode drops node uid from the live nodes: the requests waiting for
// its answer stop waiting for it, and complete if it was the last.
func (a *Adapter) removeNode(uid string, silent bool) {
	a.mu.Lock()
	if _, ok := a.nodes[uid]; !ok {
		a.mu.Unlock()
		return
	}
	delete(a.nodes, uid)
	for _, req := range a.requests {
		if _, waiting := req.missing[uid]; waiting {
			delete(req.missing, uid)
			req.lost = append(req.lost, uid)
			if req.completeLocked() {
				req.finishLocked()
			}
		}
	}
	a.mu.Unlock()
	if silent {
		a.c.nodesLost.add("nsp", a.name, "node", uid)
	} else {
		a.c.log.Debug("cluster adapter: node left", "nsp", a.name, "node", uid)
	}
}

// Nodes returns the uids of the other live nodes (heartbeat mode).
func (a *Adapter) Nodes() []string {
	if a.c.counter != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.nodes))
	for uid := range a.nodes {
		out = append(out, uid)
	}
	return out
}

// ServerCount implements sockio.Adapter: the live nodes and this one,
// without a round trip (or the broker's count, for a ServerCounter).
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if a.c.counter == nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		return 1 + len(a.nodes), nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestsTimeout)
	defer cancel()
	n, err := a.c.counter.ServerCount(ctx, a.name)
	if err != nil {
		return 0, fmt.Errorf("cluster adapter: server count: %w", err)
	}
	return n, nil
}
