// Package rooms holds the room-selection rule shared by the root package's
// connection-state recovery and the cluster adapters, so both decide alike
// which missed packets a recovered socket gets, without the root package
// exporting an adapter-only function.
package rooms
