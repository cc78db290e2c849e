package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what the load client prints, as JSON.
type loadResult struct {
	Creates int     `json:"creates"`
	Errors  int     `json:"errors"`
	Seconds float64 `json:"seconds"`
	First   string  `json:"first_error,omitempty"`
	// CPU is the CPU time the process used during the load (the load
	// client's, or the store worker's), in microseconds.
	CPU int64 `json:"cpu_us"`
}

// pasteText is the seq-th paste of about size bytes: every one differs, as
// real pastes do (alike pastes would share one blob per commit).
func pasteText(seq int64, size int) []byte {
	b := fmt.Appendf(make([]byte, 0, size+64), "// paste %d of the create benchmark\n", seq)
	line := []byte("func main() { fmt.Println(\"the quick brown fox jumps over the lazy dog\") }\n")
	for len(b) < size {
		b = append(b, line...)
	}
	return b[:size]
}

// loadClient POSTs multipart pastes (field "paste", as curl -F and the
// browser form send them) to url from c clients on keep-alive connections,
// for d or n creates, whichever ends first, and prints a loadResult.
func loadClient(url string, c, size, n int, d time.Duration) error {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: c,
		MaxConnsPerHost:     c,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	seq := atomic.Int64{}
	seq.Store(time.Now().UnixNano() % 1e9 * 1000) // distinct across rounds
	var done, failed, next atomic.Int64
	var firstErr atomic.Value
	// Requests in flight at the deadline are let finish (a cancelled
	// create is an error in the server's log, not a figure).
	deadline := time.Now().Add(d)
	start := time.Now()
	cpu0 := cpuTime(os.Getpid())
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body bytes.Buffer
			for next.Add(1) <= int64(n) && time.Now().Before(deadline) {
				body.Reset()
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("paste", "paste.txt")
				fw.Write(pasteText(seq.Add(1), size))
				mw.Close()
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body.Bytes()))
				req.Header.Set("Content-Type", mw.FormDataContentType())
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 400 {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	r := loadResult{Creates: int(done.Load()), Errors: int(failed.Load()), Seconds: time.Since(start).Seconds(),
		CPU: (cpuTime(os.Getpid()) - cpu0).Microseconds()}
	if s, ok := firstErr.Load().(string); ok {
		r.First = s
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
