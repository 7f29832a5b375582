#!/bin/sh
# workerd with its stdout appended to a file (bench/lib/targets.mjs, `stdoutFile`): the Worker's
# log lines go to tmpfs instead of a pipe that this harness's Node process has to keep draining.
exec "$BENCH_REAL_WORKERD" "$@" >>"$BENCH_WORKERD_STDOUT"
