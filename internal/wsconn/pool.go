package wsconn

import "sync"

// poolAdapter lets gorilla borrow write buffers from a sync.Pool.
type poolAdapter struct{ p sync.Pool }

func (a *poolAdapter) Get() interface{}  { return a.p.Get() }
func (a *poolAdapter) Put(v interface{}) { a.p.Put(v) }
