package packet_test

import (
	"fmt"

	"github.com/sockio/sockio/engineio/packet"
)

func ExampleAppendText() {
	msg := packet.AppendText(nil, packet.Packet{Type: packet.Message, Data: []byte("hello")})
	pong := packet.AppendText(nil, packet.Packet{Type: packet.Pong, Data: []byte("probe")})
	b64 := packet.AppendText(nil, packet.Packet{Type: packet.Message, Data: []byte{1, 2, 3, 4}, Binary: true})
	fmt.Printf("%s\n%s\n%s\n", msg, pong, b64)
	// Output:
	// 4hello
	// 3probe
	// bAQIDBA==
}

func ExampleDecodeText() {
	for _, frame := range []string{"2probe", "4hello", "bAQIDBA==", "9oops"} {
		p, err := packet.DecodeText([]byte(frame))
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("%s %q binary=%t\n", p.Type, p.Data, p.Binary)
	}
	// Output:
	// ping "probe" binary=false
	// message "hello" binary=false
	// message "\x01\x02\x03\x04" binary=true
	// error: packet: unknown packet type '9'
}

func ExampleDecodeBinary() {
	p := packet.DecodeBinary([]byte{1, 2, 3})
	fmt.Println(p.Type, p.Data, p.Binary)
	// Output: message [1 2 3] true
}

func ExampleAppendPayload() {
	body := packet.AppendPayload(nil, []packet.Packet{
		{Type: packet.Message, Data: []byte("hello")},
		{Type: packet.Ping},
		{Type: packet.Message, Data: []byte{1, 2, 3, 4}, Binary: true},
	})
	fmt.Printf("%q\n", body)
	// Output: "4hello\x1e2\x1ebAQIDBA=="
}

func ExampleDecodePayload() {
	body := []byte("4hello\x1e2probe\x1ebAQID\x1e9bad")
	err := packet.DecodePayload(body, 16, func(p packet.Packet) error {
		fmt.Printf("%s %q\n", p.Type, p.Data)
		return nil
	})
	fmt.Println("error:", err)
	// Output:
	// message "hello"
	// ping "probe"
	// message "\x01\x02\x03"
	// error: payload record 3: packet: unknown packet type '9'
}
