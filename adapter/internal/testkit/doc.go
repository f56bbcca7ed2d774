// Package testkit gathers what the tests of the cluster adapters share:
// the brokers to test against (SOCKIO_TEST_REDIS, SOCKIO_TEST_NATS, or a
// redis-server or nats-server of a test's own on a free port), waiting for
// a condition, a goroutine leak check and a log buffer.
//
// Only tests import it; it is internal and small on purpose (a public
// test-support package is issue #17's).
package testkit
