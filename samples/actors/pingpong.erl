#!/usr/bin/env escript
%% SPDX-License-Identifier: MIT
%% Two BEAM processes bouncing a message back and forth.
%%   weft-sample: ping=<0.N.0> pong=<0.M.0> rounds=R
%% Usage: pingpong.erl [rounds] [ms-to-wait-first]
%%! +JPperf true
-mode(compile).

main(Args) ->
    [R, Wait] = [list_to_integer(A) || A <- Args ++ lists:nthtail(length(Args), ["500", "1500"])],
    timer:sleep(Wait),
    Main = self(),
    Pong = spawn(fun pong/0),
    Ping = spawn(fun() -> ping(Pong, R), Main ! done end),
    receive done -> ok end,
    io:format("weft-sample: ping=~s pong=~s rounds=~b~n",
              [pid_to_list(Ping), pid_to_list(Pong), R]).

ping(Pong, 0) -> Pong ! stop;
ping(Pong, N) ->
    Pong ! {ping, self()},
    receive pong -> ping(Pong, N - 1) end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.
