package rooms

import "testing"

func TestIncluded(t *testing.T) {
	cases := []struct {
		rooms, to, except []string
		want              bool
	}{
		{nil, nil, nil, true},
		{[]string{"a"}, nil, nil, true},
		{[]string{"a"}, []string{"a"}, nil, true},
		{[]string{"a"}, []string{"b"}, nil, false},
		{[]string{"a", "b"}, []string{"b"}, []string{"a"}, false},
		{[]string{"a", "b"}, nil, []string{"c"}, true},
		{[]string{"a"}, nil, []string{"a"}, false},
	}
	for i, c := range cases {
		if got := Included(c.rooms, c.to, c.except); got != c.want {
			t.Errorf("case %d: Included(%v, %v, %v) = %v, want %v", i, c.rooms, c.to, c.except, got, c.want)
		}
	}
}
