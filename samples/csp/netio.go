// SPDX-License-Identifier: MIT
// CSP sample: a client and a slow server talk over loopback TCP, so goroutines block in the
// netpoller ("IO wait") and are made runnable by it rather than by another goroutine.
// Usage: netio [requests] [server-delay-us]
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func arg(i int, def int) int {
	if len(os.Args) > i {
		if v, err := strconv.Atoi(os.Args[i]); err == nil {
			return v
		}
	}
	return def
}

//go:noinline
func serve(ln net.Listener, delay time.Duration) {
	c, err := ln.Accept()
	if err != nil {
		panic(err)
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			return
		}
		time.Sleep(delay)
		c.Write([]byte(line))
	}
}

func main() {
	n := arg(1, 30)
	delay := time.Duration(arg(2, 2000)) * time.Microsecond
	time.Sleep(150 * time.Millisecond)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go serve(ln, delay)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		panic(err)
	}
	r := bufio.NewReader(c)
	start := time.Now()
	for i := 0; i < n; i++ {
		fmt.Fprintf(c, "ping %d\n", i)
		if _, err := r.ReadString('\n'); err != nil {
			panic(err)
		}
	}
	c.Close()
	fmt.Printf("weft-sample: role=client requests=%d elapsed_ms=%d\n", n,
		time.Since(start).Milliseconds())
}
