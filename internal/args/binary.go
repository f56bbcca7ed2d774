package args

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

// restoreBinary puts the binary parts of src (a decoded value tree: []byte,
// []any, map[string]any and scalars) back as []byte into the slots of dst
// that JSON decoding filled with their base64 text: interface slots (any
// fields, map[string]any values, []any elements, at any depth). []byte
// slots decoded the base64 already; string slots keep it, as JSON gives.
// Object keys are matched to struct fields as encoding/json matches them
// (tag or name, exact before case-insensitive, embedded structs
// promoted). Types that decode themselves (json.Unmarshaler) are left as
// they made themselves.
func restoreBinary(dst reflect.Value, src any) {
	if !hasBinary(src) || !dst.IsValid() {
		return
	}
	if dst.CanAddr() && decodesItself(dst.Addr().Type()) {
		return
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if !dst.IsNil() {
			restoreBinary(dst.Elem(), src)
		}
	case reflect.Interface:
		// JSON put the generic tree here (as src, numbers as float64)
		// with base64 strings where src has []byte: take src itself.
		if dst.NumMethod() == 0 && dst.CanSet() {
			if e := dst.Elem(); e.Kind() == reflect.Pointer && !e.IsNil() {
				restoreBinary(e, src) // a pointer set before decoding: JSON decoded into it
				return
			}
			dst.Set(reflect.ValueOf(src))
		}
	case reflect.Struct:
		m, ok := src.(map[string]any)
		if !ok {
			return
		}
		for k, v := range m {
			if f := fieldByKey(dst, k); f.IsValid() {
				restoreBinary(f, v)
			}
		}
	case reflect.Map:
		m, ok := src.(map[string]any)
		if !ok || dst.IsNil() || dst.Type().Key().Kind() != reflect.String {
			return
		}
		for k, v := range m {
			if !hasBinary(v) {
				continue
			}
			key := reflect.ValueOf(k).Convert(dst.Type().Key())
			cur := dst.MapIndex(key)
			if !cur.IsValid() {
				continue
			}
			// Map values are not addressable: patch a copy, store it back.
			cp := reflect.New(cur.Type()).Elem()
			cp.Set(cur)
			restoreBinary(cp, v)
			dst.SetMapIndex(key, cp)
		}
	case reflect.Slice, reflect.Array:
		l, ok := src.([]any)
		if !ok || dst.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < len(l) && i < dst.Len(); i++ {
			restoreBinary(dst.Index(i), l[i])
		}
	}
}

// hasBinary reports whether v holds a []byte somewhere.
func hasBinary(v any) bool {
	switch t := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range t {
			if hasBinary(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if hasBinary(e) {
				return true
			}
		}
	}
	return false
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func decodesItself(ptr reflect.Type) bool {
	return ptr.Implements(jsonUnmarshaler) || ptr.Implements(textUnmarshaler)
}

// fieldByKey returns the field of struct v that encoding/json fills from
// object key k, or an invalid Value.
func fieldByKey(v reflect.Value, k string) reflect.Value {
	var fold []int
	var exact []int
	var walk func(t reflect.Type, path []int)
	walk = func(t reflect.Type, path []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			p := append(append([]int(nil), path...), i)
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, p) // promoted fields
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if exact == nil && name == k {
				exact = p
			} else if fold == nil && strings.EqualFold(name, k) {
				fold = p
			}
		}
	}
	walk(v.Type(), nil)
	path := exact
	if path == nil {
		path = fold
	}
	if path == nil {
		return reflect.Value{}
	}
	f, err := v.FieldByIndexErr(path)
	if err != nil {
		return reflect.Value{} // through a nil embedded pointer: JSON left it
	}
	return f
}
