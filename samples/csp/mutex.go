// SPDX-License-Identifier: MIT
// CSP sample: goroutines contend for one sync.Mutex held for a while each time, so waiters
// park in the runtime's semaphore ("sync.Mutex") and are readied by the unlocking goroutine.
// Usage: mutex [workers] [rounds] [hold-us]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

var mu sync.Mutex
var counter int

//go:noinline
func worker(rounds int, hold time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < rounds; i++ {
		mu.Lock()
		end := time.Now().Add(hold)
		for time.Now().Before(end) {
		}
		counter++
		mu.Unlock()
		runtime.Gosched()
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
	workers, rounds := arg(1, 4), arg(2, 50)
	hold := time.Duration(arg(3, 1000)) * time.Microsecond
	time.Sleep(150 * time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(workers)
	for i := 0; i < workers; i++ {
		go worker(rounds, hold, &wg)
	}
	wg.Wait()
	fmt.Printf("weft-sample: role=main counter=%d mutex=%p\n", counter, &mu)
}
