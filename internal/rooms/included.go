package rooms

// Included reports whether a socket in rooms was a target of a broadcast
// to the rooms to (all when empty) except those in except; an exception
// wins over a match, as in the reference's adapter.
func Included(rooms, to, except []string) bool {
	in := len(to) == 0
	for _, r := range rooms {
		for _, x := range except {
			if r == x {
				return false
			}
		}
		for _, t := range to {
			if r == t {
				in = true
			}
		}
	}
	return in
}
