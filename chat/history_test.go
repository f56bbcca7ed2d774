package chat

import (
	"context"
	"fmt"
	"testing"
)

func TestMemoryHistoryKeepsTheNewest(t *testing.T) {
	ctx := context.Background()
	h := NewMemoryHistory(3, 0)
	for i := range 5 {
		if err := h.Append(ctx, Message{ID: fmt.Sprint(i), Room: "lobby"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.Recent(ctx, "lobby", 100)
	if err != nil {
		t.Fatal(err)
	}
	if ids := idsOf(got); ids != "2,3,4" {
		t.Fatalf("Recent = %s, want 2,3,4 (oldest first)", ids)
	}
	got, _ = h.Recent(ctx, "lobby", 2)
	if ids := idsOf(got); ids != "3,4" {
		t.Fatalf("Recent(2) = %s, want 3,4", ids)
	}
	if got, _ := h.Recent(ctx, "nowhere", 10); got == nil || len(got) != 0 {
		t.Fatalf("unknown room: %v, want an empty, non-nil slice (JSON [])", got)
	}
}

func TestMemoryHistoryForgetsTheStalestRoom(t *testing.T) {
	ctx := context.Background()
	h := NewMemoryHistory(10, 2)
	_ = h.Append(ctx, Message{ID: "a", Room: "a"})
	_ = h.Append(ctx, Message{ID: "b", Room: "b"})
	_ = h.Append(ctx, Message{ID: "a2", Room: "a"}) // a is now the fresher
	_ = h.Append(ctx, Message{ID: "c", Room: "c"})  // evicts b
	if got, _ := h.Recent(ctx, "b", 10); len(got) != 0 {
		t.Fatalf("room b kept: %v", got)
	}
	if got, _ := h.Recent(ctx, "a", 10); idsOf(got) != "a,a2" {
		t.Fatalf("room a = %s", idsOf(got))
	}
}

func idsOf(ms []Message) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ","
		}
		s += m.ID
	}
	return s
}
