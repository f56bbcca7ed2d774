package sockiotest

// TB is the part of testing.TB the kit uses: *testing.T and *testing.B
// are one. It is an interface of its own so that an Example, which has
// no *testing.T, can run the kit too.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Name() string
}
