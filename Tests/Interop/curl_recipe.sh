#!/usr/bin/env bash
# The classic IMDSv2 recipe from the EC2 user guide, pointed at BASE (e.g. http://127.0.0.1:41234): one token, then
# ten values, printed as NAME=VALUE lines. A missing path prints whatever the service sent (an HTML 404 page).
set -euo pipefail
BASE=${1:?usage: curl_recipe.sh BASE_URL}
TOKEN=$(curl -s -X PUT "$BASE/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 21600")
get() { curl -s -H "X-aws-ec2-metadata-token: $TOKEN" "$BASE/latest/$1"; }
MAC=$(get meta-data/mac)
echo "instance-id=$(get meta-data/instance-id)"
echo "mac=$MAC"
echo "availability-zone-id=$(get meta-data/placement/availability-zone-id)"
echo "region=$(get meta-data/placement/region)"
echo "security-groups=$(get meta-data/security-groups)"
echo "account-id=$(get dynamic/instance-identity/document | sed -n 's/.*"accountId" *: *"\([^"]*\)".*/\1/p')"
echo "subnet-id=$(get "meta-data/network/interfaces/macs/$MAC/subnet-id")"
echo "vpc-id=$(get "meta-data/network/interfaces/macs/$MAC/vpc-id")"
echo "iam-role=$(get meta-data/iam/security-credentials/)"
echo "partition=$(get meta-data/services/partition)"
