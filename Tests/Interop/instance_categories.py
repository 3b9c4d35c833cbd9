#!/usr/bin/env python3
"""Reads every category a real (private, on-demand) instance has with two real clients; prints one JSON object.

Usage: instance_categories.py BASE_URL      (e.g. http://127.0.0.1:41234)

- "ec2_metadata": each ec2-metadata (PyPI) attribute a real private instance has, its value made JSON-friendly, or
  {"error": "..."} when reading it raised.
- "ec2imds": the document `python -m ec2imds --imds=HOST:PORT --all` printed (its own token cache in a temp HOME).
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

from ec2_metadata import EC2Metadata

ATTRIBUTES = [
    "account_id", "ami_id", "ami_launch_index", "ami_manifest_path", "availability_zone", "availability_zone_id",
    "domain", "iam_info", "iam_security_credentials", "instance_action", "instance_id", "instance_identity_document",
    "instance_life_cycle", "instance_profile_arn", "instance_profile_id", "instance_profile_name", "instance_type",
    "mac", "network_interfaces", "partition", "private_hostname", "private_ipv4", "public_keys", "region",
    "reservation_id", "security_groups", "tags", "user_data",
]
INTERFACE_ATTRIBUTES = [
    "device_number", "interface_id", "owner_id", "private_hostname", "private_ipv4s", "security_groups",
    "security_group_ids", "subnet_id", "subnet_ipv4_cidr_block", "vpc_id", "vpc_ipv4_cidr_block", "vpc_ipv4_cidr_blocks",
]


def plain(value):
    if isinstance(value, bytes):
        return {"bytes": len(value)}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict) or hasattr(value, "keys"):
        return {str(key): plain(value[key]) for key in value.keys()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    attributes = INTERFACE_ATTRIBUTES if type(value).__name__ == "NetworkInterface" else ["name", "openssh_key"]
    return {name: read(value, name) for name in attributes if hasattr(type(value), name)}


def read(source, name):
    try:
        return plain(getattr(source, name))
    except Exception as error:  # the test reports which attribute raised and why
        return {"error": f"{type(error).__name__}: {error}"}


def with_ec2_metadata(base):
    metadata = EC2Metadata()
    metadata.service_url = f"{base}/latest/"
    metadata.dynamic_url = f"{metadata.service_url}dynamic/"
    metadata.metadata_url = f"{metadata.service_url}meta-data/"
    metadata.userdata_url = f"{metadata.service_url}user-data/"
    return {name: read(metadata, name) for name in ATTRIBUTES}


def with_ec2imds(base):
    netloc = urllib.parse.urlparse(base).netloc
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run(
            [sys.executable, "-m", "ec2imds", f"--imds={netloc}", "--all"],
            capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": home},
        )
    if result.returncode != 0:
        return {"error": f"exit {result.returncode}: {result.stderr.strip()}"}
    return json.loads(result.stdout)


if __name__ == "__main__":
    base = sys.argv[1].rstrip("/")
    print(json.dumps({"ec2_metadata": with_ec2_metadata(base), "ec2imds": with_ec2imds(base)}))
