package client

import (
	"context"
	"fmt"
	"slices"
)

// managerEvents maps each manager event to the handler type it takes.
var managerEvents = map[string]string{
	"open":              "func()",
	"ping":              "func()",
	"reconnect_failed":  "func()",
	"close":             "func(reason string)",
	"upgrade":           "func(transport string)",
	"error":             "func(error)",
	"reconnect_error":   "func(error)",
	"reconnect_attempt": "func(attempt int)",
	"reconnect":         "func(attempt int)",
}

// On registers a handler for a manager event (the reference's
// socket.io.on(...)):
//
//	"open"               func()                   the connection opened
//	"close"              func(reason string)      the connection closed
//	"error"              func(error)              a connection attempt or the transport failed
//	"ping"               func()                   a ping from the server was answered
//	"upgrade"            func(transport string)   the transport was upgraded
//	"reconnect_attempt"  func(attempt int)        attempt 1, 2, ... starts
//	"reconnect"          func(attempt int)        reconnected after attempt
//	"reconnect_error"    func(error)              a reconnection attempt failed
//	"reconnect_failed"   func()                   ReconnectionAttempts used up
//
// Handlers run one at a time, in order, off the connection's goroutines.
// On panics on an unknown event or a handler of the wrong type: that is a
// programming error, found at registration.
func (m *Manager) On(event string, handler any) {
	want, ok := managerEvents[event]
	if !ok {
		panic(fmt.Sprintf("client: unknown manager event %q", event))
	}
	okType := false
	switch handler.(type) {
	case func():
		okType = want == "func()"
	case func(string):
		okType = want == "func(reason string)" || want == "func(transport string)"
	case func(error):
		okType = want == "func(error)"
	case func(int):
		okType = want == "func(attempt int)"
	}
	if !okType {
		panic(fmt.Sprintf("client: manager %q handler must be %s, got %T", event, want, handler))
	}
	m.hmu.Lock()
	m.handlers[event] = append(m.handlers[event], handler)
	m.hmu.Unlock()
}

// Off removes every handler of a manager event.
func (m *Manager) Off(event string) {
	m.hmu.Lock()
	delete(m.handlers, event)
	m.hmu.Unlock()
}

// emit queues a manager event for its handlers. It takes no lock but its
// own, so callers may hold m.mu: queueing under it keeps the events in the
// order of the state changes that caused them.
func (m *Manager) emit(event string, arg any) {
	m.hmu.Lock()
	none := len(m.handlers[event]) == 0
	m.hmu.Unlock()
	if none {
		return
	}
	m.events.push(context.Background(), func() {
		m.hmu.Lock()
		hs := slices.Clone(m.handlers[event])
		m.hmu.Unlock()
		for _, h := range hs {
			switch f := h.(type) {
			case func():
				f()
			case func(string):
				f(arg.(string))
			case func(error):
				f(arg.(error))
			case func(int):
				f(arg.(int))
			}
		}
	}, false)
}
