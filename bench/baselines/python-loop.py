#!/usr/bin/env python3
"""Baseline (b): a Python loop with requests.Session (kept-alive connection), one token, the four lifecycle paths.

Usage: python-loop.py BASE_URL CYCLES [INTERVAL_SECONDS]
"""
import sys
import time

import requests

PATHS = [
    "spot/instance-action",
    "events/recommendations/rebalance",
    "events/maintenance/scheduled",
    "autoscaling/target-lifecycle-state",
]

base, cycles = sys.argv[1].rstrip("/"), int(sys.argv[2])
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
session = requests.Session()
session.trust_env = False
token = session.put(f"{base}/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"}).text
headers = {"X-aws-ec2-metadata-token": token}
for _ in range(cycles):
    for path in PATHS:
        session.get(f"{base}/latest/meta-data/{path}", headers=headers)
    if interval > 0:
        time.sleep(interval)
