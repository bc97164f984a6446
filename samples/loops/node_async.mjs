// SPDX-License-Identifier: MIT
// Sample (async/await, Node.js): an async handler runs every millisecond; twice it calls the
// synchronous busyCompute(), which holds the event loop for 150 ms and then 300 ms.
// Run with `node --perf-basic-prof` so JavaScript names are in /tmp/perf-PID.map.
//   node_async.mjs [stalls|calm]
// Prints per seeded stall:  weft-sample: stall_ms=MS function=busyCompute tid=PID
// and at the end            weft-sample: thread=loop tid=PID iterations=N
const mode = process.argv[2] || 'stalls';
const runMs = mode === 'stalls' ? 2200 : 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function busyCompute(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 20000; i++) x = (x * 31 + i) | 0;
  }
  return x;
}

async function handle(elapsed, done) {
  if (mode === 'stalls' && ((done.n === 0 && elapsed >= 300) || (done.n === 1 && elapsed >= 800))) {
    const ms = done.n === 0 ? 150 : 300;
    done.n++;
    busyCompute(ms);
    console.log(`weft-sample: stall_ms=${ms} function=busyCompute tid=${process.pid}`);
  }
}

async function main() {
  // Write once before the first stall: the first console.log sets up stdout, which takes
  // tens of milliseconds and would lengthen the seeded stall.
  console.log(`weft-sample: thread=main tid=${process.pid} mode=${mode}`);
  const t0 = performance.now();
  const done = { n: 0 };
  let iterations = 0;
  for (;;) {
    await sleep(1);
    iterations++;
    const elapsed = performance.now() - t0;
    await handle(elapsed, done);
    if (elapsed >= runMs) break;
  }
  console.log(`weft-sample: thread=loop tid=${process.pid} iterations=${iterations}`);
}

await main();
