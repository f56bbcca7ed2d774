package metrics

import (
	"reflect"
	"testing"

	"github.com/sockio/sockio/adapter/cluster"
	"github.com/sockio/sockio/adapter/nats"
	"github.com/sockio/sockio/adapter/redis"
	"github.com/sockio/sockio/adapter/redisstreams"
)

// Every count the adapters keep has a metric: a field added to one of
// their Stats fails here until it is mapped.
func TestEveryAdapterFieldIsMapped(t *testing.T) {
	for _, typ := range []reflect.Type{
		reflect.TypeFor[redis.Stats](),
		reflect.TypeFor[cluster.Stats](),
		reflect.TypeFor[redisstreams.Stats](),
		reflect.TypeFor[nats.Stats](),
	} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if _, ok := adapterFields[f.Name]; !ok {
				t.Errorf("%s.%s has no metric", typ, f.Name)
			}
			if f.Type != durationType && f.Type.Kind() != reflect.Uint64 {
				t.Errorf("%s.%s is a %s: neither a count nor a duration", typ, f.Name, f.Type)
			}
		}
	}
}
