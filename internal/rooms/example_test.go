package rooms_test

import (
	"fmt"

	"github.com/sockio/sockio/internal/rooms"
)

func ExampleIncluded() {
	socket := []string{"sid1", "lobby"}
	fmt.Println(rooms.Included(socket, []string{"lobby"}, nil))
	fmt.Println(rooms.Included(socket, nil, []string{"sid1"}))
	// Output:
	// true
	// false
}
