package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pasteur-dev/pasteur/internal/testbed"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	reqPerSec   float64
	bytesPerSec float64
	errors      int
}

var (
	reqRe    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	xferRe   = regexp.MustCompile(`Transfer/sec:\s+([0-9.]+)([KMGT]?B)`)
	errorsRe = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	non2xxRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// runWrk runs wrk from the bridge namespace and parses its summary.
func runWrk(bed *testbed.Bed, args []string) (wrkResult, error) {
	out, err := bed.Run(bed.Bridge, append([]string{"wrk"}, args...)...)
	if err != nil {
		return wrkResult{}, err
	}
	return parseWrk(out)
}

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := reqRe.FindStringSubmatch(out)
	x := xferRe.FindStringSubmatch(out)
	if m == nil || x == nil {
		return r, fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	r.reqPerSec, _ = strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(x[1], 64)
	mult := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[x[2]]
	r.bytesPerSec = v * mult
	if e := errorsRe.FindStringSubmatch(out); e != nil {
		for _, s := range e[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
	}
	if e := non2xxRe.FindStringSubmatch(out); e != nil {
		n, _ := strconv.Atoi(strings.TrimSpace(e[1]))
		r.errors += n
	}
	return r, nil
}
