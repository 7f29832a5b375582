#!/bin/sh
# workerd with its stdout appended to a file (bench/lib/targets.mjs, `stdoutFile`): the Worker's
# log lines go to tmpfs instead of a pipe that this harness's Node process has to keep draining.
# BENCH_WORKERD_PREFIX, when set, is a command line workerd runs under (bench/lib/instructions.mjs).
exec $BENCH_WORKERD_PREFIX "$BENCH_REAL_WORKERD" "$@" >>"$BENCH_WORKERD_STDOUT"
