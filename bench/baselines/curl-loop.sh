#!/usr/bin/env bash
# Baseline (a): the shell loop people write: one token, then curl for the four lifecycle paths, CYCLES times.
# Usage: curl-loop.sh BASE_URL CYCLES
set -u
base=$1 cycles=$2
token=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" "$base/latest/api/token")
for ((i = 0; i < cycles; i++)); do
    for path in spot/instance-action events/recommendations/rebalance events/maintenance/scheduled autoscaling/target-lifecycle-state; do
        curl -s -o /dev/null -H "X-aws-ec2-metadata-token: $token" "$base/latest/meta-data/$path"
    done
done
