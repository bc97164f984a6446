// SPDX-License-Identifier: MIT
// CSP sample: a producer and a slow consumer on an unbuffered channel. The producer spends most
// of its time blocked on "chan send"; a fast side channel (buffered, rarely blocking) is noise.
// Usage: producer_consumer [items] [consumer-delay-us]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

//go:noinline
func produce(slow chan<- int, items int, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < items; i++ {
		slow <- i
	}
	close(slow)
}

//go:noinline
func consume(slow <-chan int, delay time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	sum := 0
	for v := range slow {
		sum += v
		spin(delay)
	}
	fmt.Printf("weft-sample: role=consumer sum=%d\n", sum)
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
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	go produce(slow, items, &wg)
	go consume(slow, delay, &wg)
	wg.Wait() // a semaphore wait, not a channel: the slow channel is the only busy one
	fmt.Printf("weft-sample: role=main items=%d elapsed_ms=%d chan=%p\n", items,
		time.Since(start).Milliseconds(), slow)
}
