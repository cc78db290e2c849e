package main

import (
	"runtime"
	"strings"
)

// Allocation sampling. The runtime records one allocation in every
// 512 KiB, with its stack, for heap profiles: a table of stack buckets
// (1.4 MiB, most of its pages touched once a load has sampled a few
// thousand distinct stacks) outside the heap, and the records in it.
// After a create load that is 1-1.5 MiB of the server's resident memory
// that nothing reads unless someone fetches a heap profile from
// --debug-addr. sampleAllocations turns sampling off unless GODEBUG sets
// memprofilerate (memprofilerate=524288 gives the runtime's default back,
// for a heap profile). It runs first in main: what is sampled before
// stays.
func sampleAllocations(godebug string) {
	if !strings.Contains(godebug, "memprofilerate=") {
		runtime.MemProfileRate = 0
	}
}
