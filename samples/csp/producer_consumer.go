// SPDX-License-Identifier: MIT
// CSP sample: a producer and a slow consumer on an unbuffered channel. The producer spends most
// of its time blocked on "chan send"; a fast side channel (buffered, rarely blocking) is noise.
// Usage: producer_consumer [items] [consumer-delay-us]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func produce(slow chan<- int, items int, done chan<- bool) {
	for i := 0; i < items; i++ {
		slow <- i
	}
	close(slow)
	done <- true
}

//go:noinline
func consume(slow <-chan int, delay time.Duration, done chan<- bool) {
	sum := 0
	for v := range slow {
		sum += v
		spin(delay)
	}
	fmt.Printf("weft-sample: role=consumer sum=%d\n", sum)
	done <- true
}

// spin keeps the consumer busy on-CPU (not parked), so the producer's wait is the channel's.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

func arg(i int, def int) int {
	if len(os.Args) > i {
		if v, err := strconv.Atoi(os.Args[i]); err == nil {
			return v
		}
	}
	return def
}

func main() {
	items := arg(1, 200)
	delay := time.Duration(arg(2, 2000)) * time.Microsecond
	// Give a tracer that attaches after exec time to do so.
	time.Sleep(150 * time.Millisecond)
	slow := make(chan int)
	done := make(chan bool)
	start := time.Now()
	go produce(slow, items, done)
	go consume(slow, delay, done)
	<-done
	<-done
	fmt.Printf("weft-sample: role=main items=%d elapsed_ms=%d\n", items,
		time.Since(start).Milliseconds())
}
