#!/usr/bin/env escript
%% SPDX-License-Identifier: MIT
%% Message-heavy BEAM workload for `make bench`: a producer sends M messages to a consumer that
%% spends W microseconds of work on each, so the message rate is about 1e6 / W per second.
%%   weft-sample: messages=M work_us=W seconds=S rate=R
%% Usage: msgbench.erl [messages] [work-us]
%%! +sbwt none +sbwtdcpu none +sbwtdio none
-mode(compile).

main(Args) ->
    [M, W] = [list_to_integer(A) || A <- Args ++ lists:nthtail(length(Args), ["20000", "100"])],
    Main = self(),
    T0 = erlang:monotonic_time(microsecond),
    C = spawn(fun() -> consume(M, W), Main ! done end),
    produce(C, M),
    receive done -> ok end,
    S = (erlang:monotonic_time(microsecond) - T0) / 1.0e6,
    io:format("weft-sample: messages=~b work_us=~b seconds=~.3f rate=~b~n", [M, W, S, round(M / S)]).

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
