package redis

import (
	"testing"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

// dialClient connects a client named name to "/".
func dialClient(t testing.TB, baseURL, name string, ackWith func(testkit.Event) []any) *testkit.Client {
	t.Helper()
	return testkit.Dial(t, baseURL, name, "/", nil, ackWith)
}

// dialClientNsp connects a client to namespace nsp.
func dialClientNsp(t testing.TB, baseURL, name, nsp string, ackWith func(testkit.Event) []any) *testkit.Client {
	t.Helper()
	return testkit.Dial(t, baseURL, name, nsp, nil, ackWith)
}
