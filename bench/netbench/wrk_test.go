package main

import "testing"

func TestParseWrk(t *testing.T) {
	out := `Running 5s test @ http://10.0.0.3:4343/abc
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   820.15us  300.01us   9.00ms   90.00%
  190000 requests in 5.00s, 250.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  38000.50
Transfer/sec:     50.25MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.reqPerSec != 38000.50 || r.bytesPerSec != 50.25*(1<<20) || r.errors != 7 {
		t.Fatalf("got %+v", r)
	}
	if _, err := parseWrk("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
}
