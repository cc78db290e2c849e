package netx

import (
	"slices"
	"testing"
)

// TestIdleQueue: connections leave from anywhere in the queue, the rest
// keep their order, and a connection's two queues do not touch.
func TestIdleQueue(t *testing.T) {
	var q, other idleQueue
	q.which, other.which = limiterQueue, clientQueue
	c := make([]*limitConn, 5)
	for i := range c {
		c[i] = &limitConn{}
		q.pushBack(c[i])
	}
	other.pushBack(c[2])
	order := func() []int {
		var got []int
		for x := q.front; x != nil; x = x.links[q.which].next {
			got = append(got, slices.Index(c, x))
		}
		var back []int
		for x := q.back; x != nil; x = x.links[q.which].prev {
			back = append([]int{slices.Index(c, x)}, back...)
		}
		if !slices.Equal(got, back) {
			t.Fatalf("forward %v, backward %v", got, back)
		}
		return got
	}
	for _, step := range []struct {
		remove int
		want   []int
	}{
		{2, []int{0, 1, 3, 4}},
		{0, []int{1, 3, 4}},
		{4, []int{1, 3}},
		{1, []int{3}},
		{3, nil},
	} {
		q.remove(c[step.remove])
		if got := order(); !slices.Equal(got, step.want) || c[step.remove].links[q.which].in {
			t.Fatalf("after removing %d: %v, want %v", step.remove, got, step.want)
		}
	}
	if q.front != nil || q.back != nil || other.front != c[2] || other.back != c[2] || !c[2].links[clientQueue].in {
		t.Fatal("the queues are not as left")
	}
	q.pushBack(c[1])
	if got := order(); !slices.Equal(got, []int{1}) {
		t.Fatalf("pushed again: %v", got)
	}
}
