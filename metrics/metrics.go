// Package metrics exposes a sockio server to Prometheus: a Collector reads
// the counters the server, its Engine.IO layer and its cluster adapter
// keep anyway (sockio.Server.Stats, engineio.Server.Stats, the adapters'
// Stats), at each scrape. Nothing is counted on the hot paths for the
// collector: counting there is a few atomic adds the server does whether
// or not this package is used, and only importers of this package link
// the Prometheus client.
//
//	io := sockio.NewServer(sockio.Options{})
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.New(io, metrics.Options{Events: []string{"chat message"}}))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every name starts with sockio_, counters end in _total, durations are in
// seconds and sizes in bytes. Labels are bounded: a namespace (a parent's
// children together, see sockio.NamespaceStats), an event name only from
// Options.Events, a transport, a reason from a fixed list; never a socket
// id or a room.
package metrics

import (
	"reflect"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sockio/sockio"
	"github.com/sockio/sockio/engineio"
)

// Options configure a Collector.
type Options struct {
	// Events names the events counted and timed one by one; the others
	// are counted together, with the label event="(other)". Event names
	// come from clients: list the ones your handlers know.
	Events []string
	// NoLatency turns off the timing of event handlers and
	// acknowledgements (two clock reads per event and per acknowledgement
	// asked for): the duration histograms are then left out.
	NoLatency bool
	// Adapters are more sources of cluster counts, read at each scrape:
	// values with a Stats method, such as a *redisstreams.Broker or the
	// broker nats.NewBroker returns. The adapter of the server's "/"
	// namespace is read without being listed when it has a Stats method
	// (adapter/redis, adapter/cluster and the adapters built on it).
	Adapters []any
}

// OtherEvent is the event label of the events not in Options.Events.
const OtherEvent = "(other)"

// Collector is a prometheus.Collector of one sockio server.
type Collector struct {
	srv      *sockio.Server
	latency  bool
	adapters []any
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a collector of srv's metrics. It sets srv's StatsOptions
// (see sockio.Server.SetStatsOptions) from opts: make one per server, and
// make it before serving.
func New(srv *sockio.Server, opts Options) *Collector {
	srv.SetStatsOptions(sockio.StatsOptions{Latency: !opts.NoLatency, Events: opts.Events})
	return &Collector{srv: srv, latency: !opts.NoLatency, adapters: opts.Adapters}
}

// Descriptions. The help texts are the reference for docs/operations.md.
var (
	engineClients = desc("engine_clients", "Engine.IO connections open now, by transport.", "transport")
	engineOpened  = desc("engine_connections_total", "Engine.IO connections opened, by the transport of their handshake.", "transport")
	engineClosed  = desc("engine_disconnections_total", "Engine.IO connections closed, by reason (slow_consumer: the send queue filled up).", "reason")
	upgrades      = desc("engine_upgrades_total", "Polling connections upgraded (to WebSocket or WebTransport).")
	upgradeFailed = desc("engine_upgrade_failures_total", "Upgrades abandoned (the connection went on polling).")
	packetsIn     = desc("engine_packets_received_total", "Engine.IO packets received.")
	packetsOut    = desc("engine_packets_sent_total", "Engine.IO packets written to a transport.")
	bytesIn       = desc("engine_received_bytes_total", "Bytes of the Engine.IO packets received (without the transport's framing).")
	bytesOut      = desc("engine_sent_bytes_total", "Bytes of the Engine.IO packets written (without the transport's framing).")
	volatileDrops = desc("engine_volatile_drops_total", "Volatile packets dropped because the connection could not take them at once.")
	pollRequests  = desc("engine_polling_requests_total", "Long-polling requests, by method (GET: a poll, POST: packets from the client).", "method")
	queuePackets  = desc("engine_send_queue_packets", "Packets waiting in the connections' send queues, all connections together.")
	queueBytes    = desc("engine_send_queue_bytes", "Bytes waiting in the connections' send queues, all connections together.")
	queueMax      = desc("engine_send_queue_max_packets", "The longest send queue of one connection, in packets.")
	forwarded     = desc("engine_forwarded_requests_total", "Requests passed to the node that holds their session (forwarding).")
	forwardFailed = desc("engine_forward_failures_total", "Forwarded requests whose node did not answer.")
	drainRefused  = desc("engine_draining_refusals_total", "Handshakes refused with 503 while the node drained.")

	sockets          = desc("sockets", "Sockets connected now, by namespace and transport.", "namespace", "transport")
	connections      = desc("socket_connections_total", "Sockets connected, by namespace.", "namespace")
	disconnections   = desc("socket_disconnections_total", "Sockets disconnected, by namespace and reason.", "namespace", "reason")
	invalidNamespace = desc("invalid_namespace_total", "Connections refused because no namespace had the name asked for.")
	rejections       = desc("middleware_rejections_total", "Connections (kind connect) and events (kind event) a middleware refused.", "namespace", "kind")
	events           = desc("events_received_total", "Events received and handled, by namespace and event (names from the allow list, (other) for the rest).", "namespace", "event")
	eventDuration    = desc("event_handler_duration_seconds", "Time to handle an event: middlewares and handlers, on the client's worker.", "namespace", "event")
	acksSent         = desc("acks_sent_total", "Acknowledgements the server sent for clients' events.", "namespace")
	ackRequests      = desc("ack_requests_total", "Acknowledgements the server asked clients for (one per socket reached).", "namespace")
	acksReceived     = desc("acks_received_total", "Acknowledgements received from clients in time.", "namespace")
	ackTimeouts      = desc("ack_timeouts_total", "Acknowledgements that did not come in time.", "namespace")
	ackDuration      = desc("ack_duration_seconds", "Time from asking a client for an acknowledgement to receiving it.", "namespace")
	recoveryAttempts = desc("recovery_attempts_total", "Connections that asked for connection-state recovery.", "namespace")
	recoverySuccess  = desc("recovery_successes_total", "Recoveries that restored the session and replayed what it missed.", "namespace")
	recoveryMisses   = desc("recovery_misses_total", "Recoveries that found no session (expired, unknown, or its offset no longer kept): a new socket.", "namespace")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("sockio_"+name, help, labels, nil)
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		engineClients, engineOpened, engineClosed, upgrades, upgradeFailed,
		packetsIn, packetsOut, bytesIn, bytesOut, volatileDrops, pollRequests,
		queuePackets, queueBytes, queueMax, forwarded, forwardFailed, drainRefused,
		sockets, connections, disconnections, invalidNamespace, rejections, events,
		acksSent, ackRequests, acksReceived, ackTimeouts,
		recoveryAttempts, recoverySuccess, recoveryMisses,
	} {
		ch <- d
	}
	if c.latency {
		ch <- eventDuration
		ch <- ackDuration
	}
	for _, d := range adapterDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.collectEngine(ch, c.srv.Engine().Stats())
	c.collectServer(ch, c.srv.Stats())
	c.collectAdapters(ch)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v int, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
}

func (c *Collector) collectEngine(ch chan<- prometheus.Metric, st engineio.Stats) {
	for _, t := range []string{engineio.Polling, engineio.WebSocket} {
		gauge(ch, engineClients, st.Sessions[t], t)
		counter(ch, engineOpened, st.Opened[t], t)
	}
	for reason, n := range st.Closed {
		counter(ch, engineClosed, n, ReasonLabel(reason))
	}
	counter(ch, upgrades, st.Upgrades)
	counter(ch, upgradeFailed, st.UpgradeFailures)
	counter(ch, packetsIn, st.PacketsIn)
	counter(ch, packetsOut, st.PacketsOut)
	counter(ch, bytesIn, st.BytesIn)
	counter(ch, bytesOut, st.BytesOut)
	counter(ch, volatileDrops, st.VolatileDropped)
	counter(ch, pollRequests, st.PollGets, "GET")
	counter(ch, pollRequests, st.PollPosts, "POST")
	gauge(ch, queuePackets, st.QueuedPackets)
	gauge(ch, queueBytes, st.QueuedBytes)
	gauge(ch, queueMax, st.MaxQueuedPackets)
	counter(ch, forwarded, st.Forwarded)
	counter(ch, forwardFailed, st.ForwardFailed)
	counter(ch, drainRefused, st.DrainRefused)
}

func (c *Collector) collectServer(ch chan<- prometheus.Metric, st sockio.Stats) {
	counter(ch, invalidNamespace, st.InvalidNamespace)
	// Entries of the same name (two parents of the same pattern, say) are
	// one series: Prometheus refuses duplicates.
	var order []string
	byName := make(map[string]*sockio.NamespaceStats)
	for i := range st.Namespaces {
		ns := &st.Namespaces[i]
		if have := byName[ns.Name]; have != nil {
			merge(have, ns)
			continue
		}
		byName[ns.Name] = ns
		order = append(order, ns.Name)
	}
	for _, name := range order {
		c.collectNamespace(ch, byName[name])
	}
}

func (c *Collector) collectNamespace(ch chan<- prometheus.Metric, ns *sockio.NamespaceStats) {
	n := ns.Name
	for _, t := range []string{engineio.Polling, engineio.WebSocket} {
		gauge(ch, sockets, ns.Sockets[t], n, t)
	}
	counter(ch, connections, ns.Connections, n)
	for reason, v := range ns.Disconnections {
		counter(ch, disconnections, v, n, ReasonLabel(reason))
	}
	counter(ch, rejections, ns.ConnectRefused, n, "connect")
	counter(ch, rejections, ns.EventsRefused, n, "event")
	for name, ev := range ns.Events {
		label := name
		if name == "" {
			label = OtherEvent
		}
		counter(ch, events, ev.Received, n, label)
		if c.latency {
			histogram(ch, eventDuration, ev.Latency, n, label)
		}
	}
	counter(ch, acksSent, ns.AcksSent, n)
	counter(ch, ackRequests, ns.AckRequests, n)
	counter(ch, acksReceived, ns.AcksReceived, n)
	counter(ch, ackTimeouts, ns.AckTimeouts, n)
	if c.latency {
		histogram(ch, ackDuration, ns.AckLatency, n)
	}
	counter(ch, recoveryAttempts, ns.RecoveryAttempts, n)
	counter(ch, recoverySuccess, ns.Recovered, n)
	counter(ch, recoveryMisses, ns.RecoveryMissed, n)
}

// bucketBounds are sockio.LatencyBuckets in seconds.
var bucketBounds = func() []float64 {
	b := make([]float64, len(sockio.LatencyBuckets))
	for i, d := range sockio.LatencyBuckets {
		b[i] = d.Seconds()
	}
	return b
}()

func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, l sockio.Latency, labels ...string) {
	buckets := make(map[float64]uint64, len(bucketBounds))
	for i, le := range bucketBounds {
		buckets[le] = l.Buckets[i]
	}
	ch <- prometheus.MustNewConstHistogram(d, l.Count, l.Sum.Seconds(), buckets, labels...)
}

// merge adds the counts of b to a (two entries of one label).
func merge(a, b *sockio.NamespaceStats) {
	for t, v := range b.Sockets {
		a.Sockets[t] += v
	}
	a.Connections += b.Connections
	for r, v := range b.Disconnections {
		a.Disconnections[r] += v
	}
	a.ConnectRefused += b.ConnectRefused
	a.EventsRefused += b.EventsRefused
	for name, ev := range b.Events {
		have := a.Events[name]
		have.Received += ev.Received
		addLatency(&have.Latency, ev.Latency)
		a.Events[name] = have
	}
	a.AcksSent += b.AcksSent
	a.AckRequests += b.AckRequests
	a.AcksReceived += b.AcksReceived
	a.AckTimeouts += b.AckTimeouts
	addLatency(&a.AckLatency, b.AckLatency)
	a.RecoveryAttempts += b.RecoveryAttempts
	a.Recovered += b.Recovered
	a.RecoveryMissed += b.RecoveryMissed
}

func addLatency(a *sockio.Latency, b sockio.Latency) {
	a.Count += b.Count
	a.Sum += b.Sum
	for i := range a.Buckets {
		a.Buckets[i] += b.Buckets[i]
	}
}

// ReasonLabel is the reason label of a disconnection reason: the
// reference's words joined by "_" ("ping timeout": ping_timeout).
func ReasonLabel(reason string) string { return strings.ReplaceAll(reason, " ", "_") }

// adapterFamily is one cluster metric, fed by the Stats fields of the
// adapters and brokers that count it: their sum, or their largest.
type adapterFamily struct {
	desc  *prometheus.Desc
	label string // the reason, for the dropped messages
	// largest: the cluster core counts a publish its broker failed, and
	// the broker counts it too; the sum would count it twice.
	largest bool
}

var (
	adapterPublished    = desc("adapter_messages_published_total", "Messages published to the broker for the other nodes.")
	adapterReceived     = desc("adapter_messages_received_total", "Messages received from the broker.")
	adapterDropped      = desc("adapter_messages_dropped_total", "Messages between nodes known or estimated lost, by reason.", "reason")
	adapterTimeouts     = desc("adapter_request_timeouts_total", "Requests to the other nodes (fetchSockets, serverSideEmit with an ack...) that ended before every node answered.")
	adapterDisconnects  = desc("adapter_broker_disconnects_total", "Times the connection to the broker was lost (each followed by a reconnection).")
	adapterDeaf         = desc("adapter_deaf_seconds_total", "Time spent without a connection to the broker, deaf to the other nodes.")
	adapterNodesLost    = desc("adapter_nodes_lost_total", "Nodes dropped from the cluster for silence (no heartbeat in time).")
	adapterSessionsLost = desc("adapter_session_writes_failed_total", "Batches of live sessions the broker's store failed (retried).")
	adapterReadErrors   = desc("adapter_read_errors_total", "Failed reads of the broker's stream (resumed from the last id seen).")
	adapterGaps         = desc("adapter_stream_gaps_total", "Times the stream was trimmed past what this node had read: entries it never saw.")

	adapterDescs = []*prometheus.Desc{
		adapterPublished, adapterReceived, adapterDropped, adapterTimeouts, adapterDisconnects,
		adapterDeaf, adapterNodesLost, adapterSessionsLost, adapterReadErrors, adapterGaps,
	}

	// adapterFields maps the Stats fields of adapter/redis, adapter/cluster,
	// adapter/redisstreams and adapter/nats to their metric; a test checks
	// that every field of theirs is here.
	adapterFields = map[string]adapterFamily{
		"Published":          {desc: adapterPublished},
		"Received":           {desc: adapterReceived},
		"Delivered":          {desc: adapterReceived},
		"NotPublished":       {desc: adapterDropped, label: "not_published", largest: true},
		"Undelivered":        {desc: adapterDropped, label: "undelivered"},
		"Malformed":          {desc: adapterDropped, label: "malformed"},
		"CallbacksDropped":   {desc: adapterDropped, label: "callback_queue_full"},
		"SlowDropped":        {desc: adapterDropped, label: "slow_consumer"},
		"IncompleteRequests": {desc: adapterTimeouts},
		"SubscriberGaps":     {desc: adapterDisconnects},
		"Disconnects":        {desc: adapterDisconnects},
		"DeafTime":           {desc: adapterDeaf},
		"Deaf":               {desc: adapterDeaf},
		"NodesLost":          {desc: adapterNodesLost},
		"SessionsNotKept":    {desc: adapterSessionsLost},
		"ReadErrors":         {desc: adapterReadErrors},
		"Gaps":               {desc: adapterGaps},
	}
)

type seriesKey struct {
	desc  *prometheus.Desc
	label string
}

var durationType = reflect.TypeFor[time.Duration]()

// collectAdapters sums the adapters' Stats fields into their families.
func (c *Collector) collectAdapters(ch chan<- prometheus.Metric) {
	sources := c.adapters
	if a := c.srv.Of("/").Adapter(); !contains(sources, a) {
		sources = append([]any{a}, sources...)
	}
	sums := make(map[seriesKey]float64)
	var order []seriesKey
	for _, src := range sources {
		st, ok := statsOf(src)
		if !ok {
			continue
		}
		for i := 0; i < st.NumField(); i++ {
			f, ok := adapterFields[st.Type().Field(i).Name]
			if !ok {
				continue
			}
			var v float64
			fv := st.Field(i)
			switch {
			case fv.Type() == durationType:
				v = time.Duration(fv.Int()).Seconds()
			case fv.CanUint():
				v = float64(fv.Uint())
			default:
				continue
			}
			k := seriesKey{f.desc, f.label}
			have, ok := sums[k]
			if !ok {
				order = append(order, k)
			}
			if f.largest {
				sums[k] = max(have, v)
			} else {
				sums[k] = have + v
			}
		}
	}
	for _, k := range order {
		var labels []string
		if k.label != "" {
			labels = []string{k.label}
		}
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.CounterValue, sums[k], labels...)
	}
}

// statsOf calls v's Stats method, if it has one returning a struct.
func statsOf(v any) (reflect.Value, bool) {
	if v == nil {
		return reflect.Value{}, false
	}
	m := reflect.ValueOf(v).MethodByName("Stats")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 || m.Type().Out(0).Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return m.Call(nil)[0], true
}

// contains reports whether list holds v (the same pointer, for the
// adapters and brokers, which are pointers).
func contains(list []any, v any) bool {
	if v == nil || !reflect.TypeOf(v).Comparable() {
		return false
	}
	for _, x := range list {
		if x != nil && reflect.TypeOf(x) == reflect.TypeOf(v) && x == v {
			return true
		}
	}
	return false
}
