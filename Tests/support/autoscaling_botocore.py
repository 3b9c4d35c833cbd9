"""Drives the simulator's Auto Scaling endpoint with botocore's own client, as a real AWS client would.

argv: ENDPOINT ACCESS_KEY SECRET TOKEN INSTANCE_ID
stdout: JSON {"group": …, "heartbeat": "ok", "complete": "ok", "again": ERROR_CODE, "bad_signature": ERROR_CODE}
"""
import json
import sys

import botocore.session
from botocore.exceptions import ClientError


def client(endpoint, key, secret, token):
    session = botocore.session.get_session()
    return session.create_client(
        "autoscaling", endpoint_url=endpoint, region_name="eu-west-1",
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def code(call):
    try:
        call()
        return "ok"
    except ClientError as error:
        return error.response["Error"]["Code"]


def main():
    endpoint, key, secret, token, instance = sys.argv[1:6]
    asg = client(endpoint, key, secret, token)
    found = asg.describe_auto_scaling_instances(InstanceIds=[instance])["AutoScalingInstances"]
    group = found[0]["AutoScalingGroupName"] if found else None
    names = {"AutoScalingGroupName": group, "LifecycleHookName": "drain", "InstanceId": instance}
    result = {
        "group": group,
        "heartbeat": code(lambda: asg.record_lifecycle_action_heartbeat(**names)),
        "complete": code(lambda: asg.complete_lifecycle_action(LifecycleActionResult="CONTINUE", **names)),
        "again": code(lambda: asg.complete_lifecycle_action(LifecycleActionResult="CONTINUE", **names)),
        "bad_signature": code(lambda: client(endpoint, key, secret + "x", token).record_lifecycle_action_heartbeat(**names)),
        "bad_token": code(lambda: client(endpoint, key, secret, token + "x").record_lifecycle_action_heartbeat(**names)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    import botocore.config  # noqa: F401  (botocore.config.Config above)
    main()
