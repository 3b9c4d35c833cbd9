#!/usr/bin/env bash
# Baseline (a): the shell loop people write: one token, then curl for the four lifecycle paths, CYCLES times.
# Usage: curl-loop.sh BASE_URL CYCLES [INTERVAL_SECONDS]
set -u
base=$1 cycles=$2 interval=${3:-0}
# A sleep without forking `sleep`: read with a timeout from a pipe nobody writes to.
exec {never}<> <(:)
token=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" "$base/latest/api/token")
for ((i = 0; i < cycles; i++)); do
    for path in spot/instance-action events/recommendations/rebalance events/maintenance/scheduled autoscaling/target-lifecycle-state; do
        curl -s -o /dev/null -H "X-aws-ec2-metadata-token: $token" "$base/latest/meta-data/$path"
    done
    if [[ $interval != 0 ]]; then read -rt "$interval" -u "$never" || true; fi
done
