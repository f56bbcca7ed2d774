// Command goemit runs emitter operations for the mixed-cluster tests
// (test/cluster): the Go emitter, with only a Redis connection, driving
// Node.js and sockio nodes. The operations are a JSON array in the last
// argument:
//
//	[{"op":"emit","nsp":"/","rooms":["r"],"except":[],"event":"e","args":[1],"binary":true},
//	 {"op":"socketsJoin","rooms":["r"],"target":["t"]}, {"op":"socketsLeave",...},
//	 {"op":"disconnectSockets","rooms":["r"],"close":true}, {"op":"serverSideEmit","event":"e","args":[]}]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockio/sockio/emitter"
)

type op struct {
	Op     string   `json:"op"`
	Nsp    string   `json:"nsp"`
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
	Event  string   `json:"event"`
	Args   []any    `json:"args"`
	Binary bool     `json:"binary"`
	Target []string `json:"target"`
	Close  bool     `json:"close"`
}

func main() {
	redisURL := flag.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	key := flag.String("key", "socket.io", "channel prefix")
	sharded := flag.Bool("sharded", false, "sharded Pub/Sub")
	flag.Parse()
	var ops []op
	if err := json.Unmarshal([]byte(flag.Arg(0)), &ops); err != nil {
		log.Fatalf("operations: %v", err)
	}
	ropts, err := goredis.ParseURL(*redisURL)
	if err != nil {
		log.Fatal(err)
	}
	rdb := goredis.NewClient(ropts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := emitter.New(rdb, emitter.Options{Key: *key, Sharded: *sharded})
	for _, o := range ops {
		e := base
		if o.Nsp != "" {
			e = base.Of(o.Nsp)
		}
		b := e.To(o.Rooms...).Except(o.Except...)
		var err error
		switch o.Op {
		case "emit":
			args := o.Args
			if o.Binary {
				args = append(args, []byte{1, 2, 3})
			}
			err = b.Emit(ctx, o.Event, args...)
		case "socketsJoin":
			err = b.SocketsJoin(ctx, o.Target...)
		case "socketsLeave":
			err = b.SocketsLeave(ctx, o.Target...)
		case "disconnectSockets":
			err = b.DisconnectSockets(ctx, o.Close)
		case "serverSideEmit":
			err = e.ServerSideEmit(ctx, o.Event, o.Args...)
		default:
			err = fmt.Errorf("unknown op %q", o.Op)
		}
		if err != nil {
			log.Fatal(err)
		}
	}
}
