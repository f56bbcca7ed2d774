package cluster

import (
	"sync"
	"testing"

	"github.com/sockio/sockio"
)

var fuzzNode struct {
	once sync.Once
	a    *Adapter
}

// FuzzHandleMessage feeds what a broker may deliver (a message of any
// type whose data decodes from MessagePack or JSON) to a live adapter, as
// a broadcast, a response and a log entry: it must never panic.
func FuzzHandleMessage(f *testing.F) {
	f.Add(uint8(Broadcast), []byte(`{"packet":{"type":2,"data":["ev",1,{"a":[true,null]}],"nsp":"/"},"opts":{"rooms":["r"],"except":[],"flags":{"volatile":true,"timeout":100}}}`))
	f.Add(uint8(Broadcast), []byte(`{"packet":{"type":2,"data":["ev"],"nsp":"/"},"requestId":"abc","opts":{"rooms":[],"except":["x"],"flags":{}}}`))
	f.Add(uint8(SocketsJoin), []byte(`{"opts":{"rooms":[1,"a"],"except":[]},"rooms":["b",2.5]}`))
	f.Add(uint8(DisconnectSockets), []byte(`{"opts":{"rooms":["none"],"except":[]},"close":true}`))
	f.Add(uint8(FetchSockets), []byte(`{"opts":{"rooms":[],"except":[]},"requestId":"r1"}`))
	f.Add(uint8(FetchSocketsResponse), []byte(`{"requestId":"r1","sockets":[{"id":"s","handshake":{"headers":{"a":"b"},"query":{"q":["1","2"]},"issued":1,"auth":{"x":1}},"rooms":["s"],"data":{"k":"v"}}]}`))
	f.Add(uint8(ServerSideEmit), []byte(`{"requestId":"q","packet":["name",{"_placeholder":true,"num":0}]}`))
	f.Add(uint8(ServerSideEmitResponse), []byte(`{"requestId":"q","packet":[1,2]}`))
	f.Add(uint8(BroadcastClientCount), []byte(`{"requestId":"q","clientCount":-3}`))
	f.Add(uint8(BroadcastAck), []byte("\x82\xa9requestId\xa1q\xa6packet\xc4\x03abc"))
	f.Add(uint8(InitialHeartbeat), []byte("\xc0"))
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		fuzzNode.once.Do(func() {
			srv := sockio.NewServer(sockio.Options{
				Adapter:                 NewAdapter(NewMemoryBroker(), Options{Logger: discard()}),
				ConnectionStateRecovery: &sockio.RecoveryOptions{},
			})
			fuzzNode.a = srv.Of("/").Adapter().(*Adapter)
		})
		m, err := DecodeMessage(append([]byte(`{"type":`+itoa(int(typ))+`,"uid":"fuzz","nsp":"/","data":`), append(data, '}')...))
		if err != nil {
			// Not JSON: try the bytes as a MessagePack data value.
			m = &Message{UID: "fuzz", NSP: "/", Type: MessageType(typ)}
			if v, err := decodeValue(data); err == nil {
				m.Data = v
			}
		}
		a := fuzzNode.a
		h := handler{a}
		h.HandleMessage(m, "1")
		h.HandleResponse(m)
		a.missed(m, []string{"r"})
	})
}

// FuzzDecodeMessage reads any bytes as a message, as a broker that carries
// bytes would: an error, never a panic; a message it reads encodes again.
func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte(`{"uid":"a","nsp":"/","type":3,"data":{"packet":{"type":2,"data":["x"]}}}`))
	f.Add([]byte("\x84\xa3uid\xa1a\xa3nsp\xa1/\xa4type\x02\xa4data\xc0"))
	f.Add([]byte(`{"type":1.5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMessage(b)
		if err != nil {
			return
		}
		if _, err := EncodeMessage(m); err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
	})
}
