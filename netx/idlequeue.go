package netx

// idleQueue is a queue of idle connections, longest idle first, linked
// through the connections' own fields (links[which]): a connection goes
// idle and busy again at every request, and a queue of container/list
// allocated an element each time, twice (the limiter's queue and its
// client's).
type idleQueue struct {
	which       int // the index of this queue's links in each limitConn
	front, back *limitConn
}

// idleLink is a connection's place in one idleQueue.
type idleLink struct {
	prev, next *limitConn
	in         bool
}

// pushBack appends c, which is in no queue of q's kind.
func (q *idleQueue) pushBack(c *limitConn) {
	l := &c.links[q.which]
	l.prev, l.next, l.in = q.back, nil, true
	if q.back != nil {
		q.back.links[q.which].next = c
	} else {
		q.front = c
	}
	q.back = c
}

// remove takes c, which is in q, out of it.
func (q *idleQueue) remove(c *limitConn) {
	l := &c.links[q.which]
	if l.prev != nil {
		l.prev.links[q.which].next = l.next
	} else {
		q.front = l.next
	}
	if l.next != nil {
		l.next.links[q.which].prev = l.prev
	} else {
		q.back = l.prev
	}
	*l = idleLink{}
}
