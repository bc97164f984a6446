// SPDX-License-Identifier: MIT
// CSP sample: a request handler that gives up waiting (timeout) leaves the worker goroutines
// it started blocked forever on an unbuffered channel nobody reads: a goroutine leak.
// Usage: leak [requests]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func leakyWorker(id int, reply chan<- int) {
	time.Sleep(2 * time.Millisecond)
	reply <- id // nobody receives any more: blocked forever
}

//go:noinline
func handle(id int) bool {
	reply := make(chan int)
	go leakyWorker(id, reply)
	select {
	case <-reply:
		return true
	case <-time.After(1 * time.Millisecond):
		return false // the worker is leaked
	}
}

func main() {
	n := 5
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	time.Sleep(150 * time.Millisecond)
	leaked := 0
	for i := 0; i < n; i++ {
		if !handle(i) {
			leaked++
		}
	}
	time.Sleep(100 * time.Millisecond) // let the leaked workers reach their send
	fmt.Printf("weft-sample: role=main leaked=%d\n", leaked)
}
