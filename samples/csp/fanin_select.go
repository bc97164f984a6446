// SPDX-License-Identifier: MIT
// CSP sample: three producers at different rates fan in to one collector through select.
// The collector waits in "select"; each producer waits in "chan send" on its own channel.
// Usage: fanin_select [messages-per-producer]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

//go:noinline
func producer(id int, out chan<- int, n int, every time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := 0; i < n; i++ {
		time.Sleep(every)
		out <- id
	}
}

func main() {
	n := 50
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	time.Sleep(150 * time.Millisecond)
	a, b, c := make(chan int), make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(3)
	go producer(1, a, n, 1*time.Millisecond, &wg)
	go producer(2, b, n, 2*time.Millisecond, &wg)
	go producer(3, c, n, 3*time.Millisecond, &wg)
	quit := make(chan bool)
	go func() { wg.Wait(); close(quit) }()
	counts := map[int]int{}
	for done := false; !done; {
		select {
		case v := <-a:
			counts[v]++
		case v := <-b:
			counts[v]++
		case v := <-c:
			counts[v]++
		case <-quit:
			done = true
		}
	}
	fmt.Printf("weft-sample: role=collector a=%d b=%d c=%d\n", counts[1], counts[2], counts[3])
}
