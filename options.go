package sockio

import (
	"net/http"
	"time"

	"github.com/sockio/sockio/engineio"
	"github.com/sockio/sockio/parser"
)

// CORS, Cookie and PerMessageDeflate are the Engine.IO options of the same name.
type (
	CORS              = engineio.CORS
	Cookie            = engineio.Cookie
	PerMessageDeflate = engineio.PerMessageDeflate
)

// Options configure a Server. The zero value gives the reference defaults.
type Options struct {
	// Path is where the server answers (default "/socket.io/").
	Path string
	// ConnectTimeout closes a connection that joins no namespace in time
	// (default 45s).
	ConnectTimeout time.Duration
	// Adapter creates each namespace's adapter (default in memory).
	Adapter AdapterFactory
	// AckTimeout is the acknowledgement timeout of the emits that set
	// none (Timeout): a callback then gets ErrTimeout, EmitWithAck returns
	// it, a broadcast with acknowledgements ends with the answers so far.
	// Zero, the default as in the reference: an emit waits for its
	// acknowledgement until the socket disconnects (or its context ends),
	// and a broadcast with acknowledgements needs a Timeout or a deadline.
	AckTimeout time.Duration
	// ConnectionStateRecovery, when set, lets a client that lost its
	// connection get its socket back with the events it missed.
	ConnectionStateRecovery *RecoveryOptions
	// MaxAttachments bounds the binary attachments of one packet (default 10).
	MaxAttachments int
	// CleanupEmptyChildNamespaces removes a namespace that a parent
	// (OfFunc, OfRegexp) created for a client once its last socket has
	// left, or its only connection attempt was refused: it leaves
	// Namespaces and its parent's Children and its adapter is closed, as
	// with the reference's cleanupEmptyChildNamespaces. Off by default, as
	// there: then every name a client gets created is kept until the
	// server closes, so clients that make up names grow the server without
	// bound. With ConnectionStateRecovery on, a namespace is kept while a
	// socket that left it may still come back (MaxDisconnectionDuration).
	CleanupEmptyChildNamespaces bool
	// MaxNamespaceNameBytes bounds the name, in bytes, of a namespace a
	// parent may create for a client (default 256). A longer name is
	// refused with the "Invalid namespace" connect error before any
	// parent's match function runs, and nothing is created. The reference
	// has no bound but its 1 MB message limit; names are identifiers
	// ("/tenant-<uuid>" is 44 bytes), and 256 keeps a name smaller than
	// the namespace it names. Namespaces the server created with Of are
	// reached whatever their length.
	MaxNamespaceNameBytes int
	// Parser is the packet format of every connection (the reference's
	// "parser" option): nil is parser.Default, the reference's own;
	// parser.Msgpack serves clients that use socket.io-msgpack-parser.
	// Clients must all use the server's format. MaxAttachments applies to
	// the default format only: msgpack has no attachments (binary values
	// travel inline) and, as in the reference, no limit on their number;
	// MaxHTTPBufferSize bounds the message.
	Parser parser.Codec

	// Engine.IO options; see package engineio for each.
	PingInterval       time.Duration
	PingTimeout        time.Duration
	UpgradeTimeout     time.Duration
	MaxHTTPBufferSize  int64
	Transports         []string
	DisableUpgrades    bool
	Cookie             *Cookie
	CORS               *CORS
	AllowRequest       func(r *http.Request) error
	PerMessageDeflate  *PerMessageDeflate
	MaxBufferedPackets int
	MaxBufferedBytes   int
	WriteTimeout       time.Duration
	MaxHeaderBytes     int
	MaxURLBytes        int
	PostTimeout        time.Duration
	// AllowedOrigins: empty allows every origin, as the reference does;
	// engineio.SameOrigin alone allows same-origin pages only.
	AllowedOrigins []string
	// InitialHeaders and Headers are the reference's "initial_headers"
	// and "headers" events: they may change the headers of the handshake's
	// answer, and of every successful polling answer and websocket 101.
	InitialHeaders func(h http.Header, r *http.Request)
	Headers        func(h http.Header, r *http.Request)
	// AllowEIO3 also serves Socket.IO v2 clients (socket.io-client 2.x:
	// Engine.IO 3, Socket.IO protocol 4), as the reference's allowEIO3
	// does: they are connected to "/" on arrival (their Handshake.Auth is
	// empty there; on other namespaces it is the query they add to the
	// namespace's name), their socket ids are the Engine.IO session id
	// ("<nsp>#<sid>" off "/"), and they share rooms and broadcasts with
	// the other clients. Off by default: their handshake is refused with
	// "Unsupported protocol version", as the reference refuses it.
	AllowEIO3 bool

	// Forwarding, when set, lets every node of a cluster serve every
	// request: no sticky sessions needed behind the load balancer (see
	// engineio.Forwarding; adapter/cluster's Peers is its directory).
	Forwarding *engineio.Forwarding
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if o.Path[len(o.Path)-1] != '/' {
		o.Path += "/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.ConnectionStateRecovery != nil {
		o.ConnectionStateRecovery = o.ConnectionStateRecovery.withDefaults()
	}
	if o.Adapter == nil {
		o.Adapter = func(n *Namespace) Adapter { return NewMemoryAdapter(n) }
	}
	if o.MaxNamespaceNameBytes <= 0 {
		o.MaxNamespaceNameBytes = DefaultMaxNamespaceNameBytes
	}
	return o
}

func (o *Options) engine() engineio.Options {
	return engineio.Options{
		PingInterval:       o.PingInterval,
		PingTimeout:        o.PingTimeout,
		UpgradeTimeout:     o.UpgradeTimeout,
		MaxHTTPBufferSize:  o.MaxHTTPBufferSize,
		Transports:         o.Transports,
		DisableUpgrades:    o.DisableUpgrades,
		Cookie:             o.Cookie,
		CORS:               o.CORS,
		AllowRequest:       o.AllowRequest,
		PerMessageDeflate:  o.PerMessageDeflate,
		MaxBufferedPackets: o.MaxBufferedPackets,
		MaxBufferedBytes:   o.MaxBufferedBytes,
		WriteTimeout:       o.WriteTimeout,
		MaxHeaderBytes:     o.MaxHeaderBytes,
		MaxURLBytes:        o.MaxURLBytes,
		PostTimeout:        o.PostTimeout,
		AllowedOrigins:     o.AllowedOrigins,
		InitialHeaders:     o.InitialHeaders,
		Headers:            o.Headers,
		Forwarding:         o.Forwarding,
		AllowEIO3:          o.AllowEIO3,
	}
}
