// Package adaptertest is one scenario suite that every sockio cluster
// adapter runs, as testing/fstest is for file systems: an adapter's test
// describes how to make the nodes of a cluster (Config) and calls Run.
//
// Every scenario runs real sockio servers on 127.0.0.1 with real
// Socket.IO clients over WebSocket: broadcasts (all, rooms, except, a
// socket id, local, volatile, binary), broadcasts with acknowledgements and
// their timeout, fetchSockets, socketsJoin/Leave, disconnectSockets,
// serverSideEmit with and without acknowledgements, serverCount, a node
// that closes, and, where the Config allows them, a node killed (SIGKILL)
// or frozen (SIGSTOP) mid-request in a child process of the test binary,
// the broker restarted mid-run, hostile messages on the broker, and
// connection-state recovery across nodes.
//
// An adapter that cannot pass a scenario yet names it in Config.Skip with
// the reason; the scenario stays, skipped, and shows in the test output.
package adaptertest
