// Package parser implements the Socket.IO protocol v5 packet codec (the
// format of the reference socket.io-parser v4.2).
//
// A packet's text part is
//
//	<type>[<#attachments>-][<namespace>,][<ack id>][<JSON data>]
//
// where the namespace is omitted when it is "/", and binary packets
// (BINARY_EVENT, BINARY_ACK) are followed by their attachments, one binary
// message each, referenced from the JSON by {"_placeholder":true,"num":N}.
// Every message travels inside an Engine.IO message packet, hence the extra
// leading "4" seen on the wire.
//
//	0                                        CONNECT to "/"
//	0/admin,{"token":"123"}                  CONNECT to "/admin" with auth
//	40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}  (on the wire) CONNECT accepted
//	1/admin,                                 DISCONNECT from "/admin"
//	2["hello",1]                             EVENT "hello" with argument 1
//	2/admin,456["project:delete",123]        EVENT with ack id 456
//	3/admin,456[]                            ACK 456 without arguments
//	4{"message":"Not authorized"}            CONNECT_ERROR
//	51-["hello",{"_placeholder":true,"num":0}]
//	  + <01 02 03>                           BINARY_EVENT with one attachment
//	61-/admin,456[{"_placeholder":true,"num":0}]
//	  + <04 05>                              BINARY_ACK 456 with one attachment
//
// Decoding is zero-copy: a Decoder keeps the JSON payload raw (Data aliases
// the message) and validates it as the reference parser does (see Decoder.Add),
// so the server can reject a malformed packet before unmarshalling anything.
// SplitArray, EventName and Reconstruct then take the payload apart;
// EncodeData and AppendText build packets.
//
// That format is the Default Codec. A server or a client may use another
// one for all its connections (the reference's "parser" option): Msgpack
// is the format of socket.io-msgpack-parser, one MessagePack binary
// message per packet. Whatever the codec, a Packet keeps the
// representation above (JSON data, binary parts as placeholders plus
// attachments); a codec converts at the connection's edge, so handlers,
// adapters and recovery are the same for every format.
package parser
