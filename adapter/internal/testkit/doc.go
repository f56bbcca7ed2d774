// Package testkit gathers what the tests of the cluster adapters share
// beyond package sockiotest (whose client, brokers, WaitFor and goroutine
// check it passes on under the names these tests use): a redis-server or
// nats-server of a test's own on a free port, to stop and restart, the
// wait for a cluster to form, session batches, and a log buffer.
//
// Only tests import it.
package testkit
