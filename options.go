package sockio

import (
	"net/http"
	"time"

	"github.com/sockio/sockio/engineio"
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
	// ConnectionStateRecovery, when set, lets a client that lost its
	// connection get its socket back with the events it missed.
	ConnectionStateRecovery *RecoveryOptions
	// MaxAttachments bounds the binary attachments of one packet (default 10).
	MaxAttachments int

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
	}
}
