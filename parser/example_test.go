package parser_test

import (
	"fmt"

	"github.com/sockio/sockio/parser"
)

func ExampleDecoder() {
	var d parser.Decoder
	p, err := d.Add([]byte(`2/admin,456["project:delete",123]`), false)
	fmt.Println(p.Type, p.Namespace, p.ID, string(p.Data), err)

	// A binary event: the header, then one message per attachment.
	p, err = d.Add([]byte(`51-["upload",{"_placeholder":true,"num":0}]`), false)
	fmt.Println(p, err, d.Awaiting())
	p, err = d.Add([]byte{1, 2, 3}, true)
	fmt.Println(p.Type, string(p.Data), p.Attachments, err)

	_, err = d.Add([]byte(`2["disconnect"]`), false)
	fmt.Println(err)
	// Output:
	// EVENT /admin 456 ["project:delete",123] <nil>
	// <nil> <nil> true
	// BINARY_EVENT ["upload",{"_placeholder":true,"num":0}] [[1 2 3]] <nil>
	// socket.io: reserved event name: "disconnect"
}

func ExampleAppendText() {
	p := &parser.Packet{Type: parser.Connect, Namespace: "/admin", Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}
	fmt.Println(string(parser.AppendText(nil, p)))
	p = &parser.Packet{Type: parser.Ack, ID: 12, HasID: true, Data: []byte(`[]`)}
	fmt.Println(string(parser.AppendText(nil, p)))
	// Output:
	// 0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}
	// 312[]
}

func ExampleEncodeData() {
	data, atts, err := parser.EncodeData(nil, []any{"file", map[string]any{"name": "a.bin", "body": []byte{1, 2}}})
	if err != nil {
		panic(err)
	}
	typ := parser.Event
	if len(atts) > 0 {
		typ = parser.BinaryEvent
	}
	p := &parser.Packet{Type: typ, Namespace: "/", Data: data, Attachments: atts}
	fmt.Println(string(parser.AppendText(nil, p)))
	fmt.Println(atts)
	// Output:
	// 51-["file",{"body":{"_placeholder":true,"num":0},"name":"a.bin"}]
	// [[1 2]]
}

func ExampleSplitArray() {
	args, _ := parser.SplitArray([]byte(`["hello", 1, {"a": [2, 3]}]`))
	for _, a := range args {
		fmt.Println(string(a))
	}
	name, _ := parser.EventName([]byte(`["hello", 1]`))
	fmt.Println(name)
	// Output:
	// "hello"
	// 1
	// {"a": [2, 3]}
	// hello
}

func ExampleReconstruct() {
	v, err := parser.Reconstruct([]byte(`{"n":1.50,"body":{"_placeholder":true,"num":0}}`), [][]byte{{7, 8}})
	fmt.Printf("%v %v\n", v, err)
	// Output:
	// map[body:[7 8] n:1.50] <nil>
}
