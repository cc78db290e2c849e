// Package ratelimit limits how often each client may do something: a
// token bucket per client (an IPv4 address or an IPv6 /64), in a table
// whose size is bounded whatever the number of clients.
package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadRate is returned for a rate that does not parse.
var ErrBadRate = errors.New("ratelimit: want N/DURATION, like 30/1m")

// Rate is N events per duration Per, in bursts of up to N.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "N/DURATION": 30/1m, 10/1s, 100/1h; a bare unit counts
// one of it (30/m is 30/1m).
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%w: %q", ErrBadRate, s)
	}
	r := Rate{}
	var err error
	if r.N, err = strconv.Atoi(n); err != nil || r.N < 1 {
		return Rate{}, fmt.Errorf("%w: %q: N must be a positive integer", ErrBadRate, s)
	}
	if per != "" && !strings.ContainsAny(per[:1], "0123456789.") {
		per = "1" + per
	}
	if r.Per, err = time.ParseDuration(per); err != nil || r.Per <= 0 {
		return Rate{}, fmt.Errorf("%w: %q: DURATION must be positive, like 1m or 30s", ErrBadRate, s)
	}
	if r.interval() <= 0 {
		return Rate{}, fmt.Errorf("%w: %q: more than one per nanosecond", ErrBadRate, s)
	}
	return r, nil
}

// String returns the rate as ParseRate reads it.
func (r Rate) String() string {
	return strconv.Itoa(r.N) + "/" + r.Per.String()
}

// interval is the time one token takes to come back.
func (r Rate) interval() time.Duration {
	return r.Per / time.Duration(r.N)
}
