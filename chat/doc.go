// Package chat is the chat room that `sockio serve` runs: nicknames, rooms,
// who is online, typing indicators, private messages and a replayed history,
// on the sockio API.
//
// Clients connect with auth {name, clientId, room, reconnect} (a Socket.IO
// v2 client, served with sockio.Options.AllowEIO3, cannot send auth: it
// gives them in its query) and talk with these events (see docs/chat.md
// for the payloads):
//
//	client → server: join, message, typing, rename, private, rooms
//	server → client: welcome, message, system, users, typing, private, rooms
//
// With connection-state recovery on the server, a socket that comes back
// recovered keeps its name and room and gets the events it missed; the
// chat then sends no welcome and no "joined" line (Options.DepartureGrace
// spares the room the "left" line of such a blip).
//
// Presence is read with FetchSockets and messages go through the
// namespace's adapter, so the same code serves a cluster once the adapter
// and the History are shared ones.
package chat
