#!/usr/bin/env escript
%% SPDX-License-Identifier: MIT
%% Message-heavy BEAM workload for `make bench`: a producer sends M messages to a consumer that
%% spends W microseconds of work on each, so the message rate is about 1e6 / W per second.
%%   weft-sample: messages=M work_us=W seconds=S rate=R cpu_s=C
%% C: CPU time (user + system, from /proc/self/stat) the VM spent on the exchange, which is
%% where uprobe hits are paid and which other load on the machine barely changes.
%% Usage: msgbench.erl [messages] [work-us]
%%! +sbwt none +sbwtdcpu none +sbwtdio none
-mode(compile).

main(Args) ->
    [M, W] = [list_to_integer(A) || A <- Args ++ lists:nthtail(length(Args), ["20000", "100"])],
    Main = self(),
    C0 = cpu_ticks(),
    T0 = erlang:monotonic_time(microsecond),
    C = spawn(fun() -> consume(M, W), Main ! done end),
    produce(C, M),
    receive done -> ok end,
    S = (erlang:monotonic_time(microsecond) - T0) / 1.0e6,
    Cpu = (cpu_ticks() - C0) / 100,  % USER_HZ
    io:format("weft-sample: messages=~b work_us=~b seconds=~.3f rate=~b cpu_s=~.2f~n",
              [M, W, S, round(M / S), Cpu]).

%% utime + stime of this OS process, in clock ticks (fields 14 and 15 of /proc/self/stat).
cpu_ticks() ->
    {ok, Stat} = file:read_file("/proc/self/stat"),
    [_, AfterComm] = binary:split(Stat, <<") ">>),
    Fields = binary:split(AfterComm, <<" ">>, [global]),
    binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)).

produce(_, 0) -> ok;
produce(C, N) -> C ! {msg, N}, produce(C, N - 1).

consume(0, _) -> ok;
consume(N, W) ->
    receive {msg, _} -> spin(erlang:monotonic_time(microsecond) + W), consume(N - 1, W) end.

spin(End) ->
    case erlang:monotonic_time(microsecond) >= End of
        true -> ok;
        false -> spin(End)
    end.
