#!/usr/bin/env python3
"""Reads the simulator with two independent IMDSv2 clients and prints what each saw, as one JSON object.

Usage: imds_clients.py BASE_URL      (e.g. http://127.0.0.1:41234)

- ec2-metadata (PyPI): its URLs are attributes, pointed at BASE_URL.
- botocore's IMDSFetcher: the fetcher the AWS SDK for Python uses for credentials and region.
"""
import json
import sys

import botocore.utils
from ec2_metadata import EC2Metadata


def read_with_ec2_metadata(base):
    metadata = EC2Metadata()
    metadata.service_url = f"{base}/latest/"
    metadata.dynamic_url = f"{metadata.service_url}dynamic/"
    metadata.metadata_url = f"{metadata.service_url}meta-data/"
    spot = metadata.spot_instance_action
    return {
        "instance_id": metadata.instance_id,
        "region": metadata.region,
        "availability_zone": metadata.availability_zone,
        "tags": dict(metadata.tags),
        "spot": None if spot is None else {"action": spot.action, "time": spot.time.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }


def read_with_botocore(base):
    fetcher = botocore.utils.IMDSFetcher(base_url=f"{base}/", timeout=2, num_attempts=2)
    token = fetcher._fetch_metadata_token()
    if token is None:
        raise SystemExit("botocore: no IMDSv2 token")

    def get(path):
        # IMDS sends text/plain without a charset; botocore's .text would assume ISO-8859-1, so decode the bytes.
        return fetcher._get_request(url_path=path, retry_func=fetcher._default_retry, token=token).content.decode("utf-8")

    keys = get("/latest/meta-data/tags/instance").splitlines()
    region = botocore.utils.InstanceMetadataRegionFetcher(base_url=f"{base}/", timeout=2, num_attempts=2).retrieve_region()
    return {
        "instance_id": get("/latest/meta-data/instance-id"),
        "region": region,
        "tags": {key: get(f"/latest/meta-data/tags/instance/{key}") for key in keys},
        "spot": json.loads(get("/latest/meta-data/spot/instance-action")),
    }


if __name__ == "__main__":
    base = sys.argv[1].rstrip("/")
    print(json.dumps({"ec2_metadata": read_with_ec2_metadata(base), "botocore": read_with_botocore(base)}))
