package sockio

import (
	"iter"
	"maps"
	"slices"
)

// smallSet is the size up to which a stringSet stays a slice.
const smallSet = 8

// stringSet is a set of strings that stays a small slice while it has few
// members and becomes a map past smallSet. Most sets in the adapter are
// tiny (a socket is in one or two rooms; its own room has one member), and
// an empty map costs some 200 bytes per socket where a slice costs 16.
type stringSet struct {
	small []string
	big   map[string]struct{}
}

func (s *stringSet) add(v string) {
	switch {
	case s.big != nil:
		s.big[v] = struct{}{}
	case slices.Contains(s.small, v):
	case len(s.small) < smallSet:
		s.small = append(s.small, v)
	default:
		s.big = make(map[string]struct{}, 2*smallSet)
		for _, x := range s.small {
			s.big[x] = struct{}{}
		}
		s.big[v] = struct{}{}
		s.small = nil
	}
}

func (s *stringSet) del(v string) {
	if s.big != nil {
		delete(s.big, v)
		return
	}
	if i := slices.Index(s.small, v); i >= 0 {
		s.small = slices.Delete(s.small, i, i+1)
	}
}

func (s *stringSet) has(v string) bool {
	if s.big != nil {
		_, ok := s.big[v]
		return ok
	}
	return slices.Contains(s.small, v)
}

func (s *stringSet) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}

// all yields the members; the set must not change meanwhile.
func (s *stringSet) all() iter.Seq[string] {
	if s.big != nil {
		return maps.Keys(s.big)
	}
	return slices.Values(s.small)
}
