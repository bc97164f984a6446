#!/usr/bin/env escript
%% SPDX-License-Identifier: MIT
%% A BEAM process whose mailbox floods: fast producers, a slow handler (1 ms per message).
%% Prints what the VM itself says (the oracle for weft's numbers):
%%   weft-sample: actor=sink pid=<0.N.0> max_queue_len=Q handled=H
%% Usage: flood.erl [messages-per-producer] [producers] [ms-to-wait-first]
%%! +JPperf true
-mode(compile).

main(Args) ->
    [N, P, Wait] = [list_to_integer(A) || A <- Args ++ lists:nthtail(length(Args), ["400", "3", "1500"])],
    timer:sleep(Wait),  % under `weft run` the probes go in while the VM boots
    Main = self(),
    Sink = spawn(fun() -> sink(0, Main) end),
    register(flood_sink, Sink),
    Monitor = spawn(fun() -> watch(Sink, 0) end),
    Producers = [spawn(fun() -> produce(Sink, N), Main ! {done, self()} end) || _ <- lists:seq(1, P)],
    [receive {done, Pid} -> ok end || Pid <- Producers],
    Sink ! {stop, self()},
    Handled = receive {handled, H} -> H end,
    Monitor ! {stop, self()},
    Max = receive {max, M} -> M end,
    io:format("weft-sample: actor=sink pid=~s max_queue_len=~b handled=~b~n",
              [pid_to_list(Sink), Max, Handled]),
    [io:format("weft-sample: producer=~s~n", [pid_to_list(Pr)]) || Pr <- Producers].

produce(_, 0) -> ok;
produce(Sink, N) -> Sink ! {work, N}, produce(Sink, N - 1).

sink(Handled, Main) ->
    receive
        {work, _} -> busy(1000), sink(Handled + 1, Main);
        {stop, From} -> From ! {handled, Handled}
    end.

%% The slow handler: ~Us microseconds of work without yielding to a timer.
busy(Us) ->
    End = erlang:monotonic_time(microsecond) + Us,
    spin(End).
spin(End) ->
    case erlang:monotonic_time(microsecond) >= End of
        true -> ok;
        false -> spin(End)
    end.

watch(Sink, Max) ->
    receive
        {stop, From} -> From ! {max, Max}
    after 2 ->
        case erlang:process_info(Sink, message_queue_len) of
            {message_queue_len, L} when L > Max -> watch(Sink, L);
            _ -> watch(Sink, Max)
        end
    end.
