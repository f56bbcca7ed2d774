package sockiotest

import (
	"encoding/json"
	"strings"
)

// Event is an event a Client got: its name, its arguments as JSON (binary
// ones as placeholders), and their attachments.
type Event struct {
	Name string
	Args []json.RawMessage
	// Attachments are the binary parts, in placeholder order.
	Attachments [][]byte
	// Offset is the recovery offset the server appended as the last
	// argument, taken out of Args, when ClientOptions.Offsets is set.
	Offset string
}

// DisconnectEvent is the name of the Event a Client gets when the server
// disconnects its socket (a DISCONNECT packet).
const DisconnectEvent = "(disconnected by server)"

func (e Event) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, a := range e.Args {
		b.WriteByte(' ')
		b.Write(a)
	}
	return b.String()
}

// Arg decodes argument i as JSON into v, failing the test if it cannot.
func (e Event) Arg(t TB, i int, v any) {
	t.Helper()
	if i >= len(e.Args) {
		t.Fatalf("sockiotest: event %s has no argument %d", e, i)
		return
	}
	if err := json.Unmarshal(e.Args[i], v); err != nil {
		t.Fatalf("sockiotest: event %s argument %d: %v", e, i, err)
	}
}

// Last is the last argument as a string ("" if none, or not a string):
// the recovery offset, when ClientOptions.Offsets left it in Args.
func (e Event) Last() string {
	if len(e.Args) == 0 {
		return ""
	}
	var s string
	_ = json.Unmarshal(e.Args[len(e.Args)-1], &s)
	return s
}
