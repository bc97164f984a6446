-- SPDX-License-Identifier: MIT
-- Queries for Perfetto UI's Query (SQL) page on a weft trace. Each block stands alone:
-- paste one, change the names in quotes. (Checked against Perfetto v20.1's trace processor
-- by the integration tests: tests/integration/test_sched.py.)

-- name: threads by time not running
-- Threads of the traced processes, the ones that waited longest first.
select t.tid, t.name as thread, p.name as process,
       sum(case when ts.state = 'Running' then ts.dur else 0 end) / 1e6 as running_ms,
       sum(case when ts.state in ('S', 'D') then ts.dur else 0 end) / 1e6 as sleeping_ms,
       sum(case when ts.state in ('R', 'R+') then ts.dur else 0 end) / 1e6 as runnable_ms
from thread_state ts join thread t using(utid) left join process p using(upid)
where p.pid is not null and p.pid != 0
group by t.utid order by sleeping_ms + runnable_ms desc;

-- name: longest waits of a thread
-- Where one thread slept longest, and the kernel function it slept in.
select ts.ts, ts.dur / 1e6 as ms, ts.state, ts.blocked_function
from thread_state ts join thread t using(utid)
where t.name = 'sleeper' and ts.state in ('S', 'D')
order by ts.dur desc limit 20;

-- name: run-queue delay per thread
-- Time from wakeup (or preemption) to running again: CPU contention.
select t.name as thread, count(*) as waits, max(ts.dur) / 1e3 as max_us,
       avg(ts.dur) / 1e3 as mean_us
from thread_state ts join thread t using(utid)
where ts.state in ('R', 'R+')
group by t.utid order by max_us desc;

-- name: off-CPU stacks by count
-- The leaf functions of the stacks threads went to sleep in, most frequent first.
select f.name as function, count(*) as samples
from perf_sample s join stack_profile_callsite c on c.id = s.callsite_id
join stack_profile_frame f on f.id = c.frame_id
group by f.name order by samples desc limit 20;

-- name: who wakes whom
-- Wakeups per (waker, wakee) pair, from the scheduler's waking events.
select waker.name as waker, a.int_value as wakee_tid, count(*) as wakeups
from raw r join thread waker using(utid)
join args a on a.arg_set_id = r.arg_set_id and a.key in ('pid', 'args.pid')
where r.name = 'sched_waking'
group by waker.utid, a.int_value order by wakeups desc limit 20;
