// SPDX-License-Identifier: MIT
// CSP benchmark sample: many channel operations through a buffered pipeline, where goroutines
// block only when a buffer runs full or empty (the common shape of real Go code).
// Usage: chan_heavy [items]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 800000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	// Give a tracer that attaches after exec time to do so; the work phase is timed alone.
	time.Sleep(150 * time.Millisecond)
	start := time.Now()
	in := make(chan int, 1024)
	out := make(chan int, 1024)
	go func() {
		for i := 0; i < n; i++ {
			in <- i
		}
		close(in)
	}()
	go func() {
		for v := range in {
			out <- v * 2
		}
		close(out)
	}()
	sum := 0
	for v := range out {
		sum += v
	}
	fmt.Printf("weft-sample: role=main items=%d sum=%d elapsed_us=%d\n", n, sum,
		time.Since(start).Microseconds())
}
