package client

import "context"

// New returns a socket for the namespace in rawURL ("http://host:3000/chat"
// is namespace "/chat"; no path is "/") on a manager of its own, without
// connecting: register handlers with On, then call Connect. The URL's
// query is sent with the handshake.
func New(rawURL string, opts Options) (*Socket, error) {
	m, nsp, err := newManager(rawURL, opts)
	if err != nil {
		return nil, err
	}
	s := m.Socket(nsp, opts.socketOptions())
	s.own = true
	return s, nil
}

// Connect is New followed by Socket.Connect: it returns once the server
// has accepted the socket. On failure everything is released and the
// error is a *ConnectError (refused by the server), ErrReconnectFailed, or
// the context's error wrapping the last connection error.
//
// Events the server emits right after accepting may reach the socket
// before the caller's On: when that matters, use New, On, then Connect.
func Connect(ctx context.Context, rawURL string, opts Options) (*Socket, error) {
	s, err := New(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := s.Connect(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}
