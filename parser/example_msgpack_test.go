package parser_test

import (
	"fmt"

	"github.com/sockio/sockio/parser"
)

// A packet in the format of socket.io-msgpack-parser: one binary message,
// binary data inline. Decoding gives back the usual representation, a
// BINARY_EVENT with placeholders and attachments. A server or a client
// picks its format once, for every connection:
//
//	sockio.NewServer(sockio.Options{Parser: parser.Msgpack})
//	client.Connect(ctx, url, client.Options{Parser: parser.Msgpack})
func ExampleMsgpack() {
	data, atts, _ := parser.EncodeData(nil, []any{"upload", []byte{1, 2, 3}})
	msgs, err := parser.Msgpack.Encode(&parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: data, Attachments: atts})
	fmt.Println(len(msgs), msgs[0].Binary, err)
	fmt.Printf("%x\n", msgs[0].Data)

	p, err := parser.Msgpack.NewDecoder(0).Add(msgs[0].Data, true)
	fmt.Println(p.Type, string(p.Data), p.Attachments, err)

	// Output:
	// 1 true <nil>
	// 83a47479706502a36e7370a12fa46461746192a675706c6f6164c403010203
	// BINARY_EVENT ["upload",{"_placeholder":true,"num":0}] [[1 2 3]] <nil>
}
