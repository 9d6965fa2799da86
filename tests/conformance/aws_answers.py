"""What an AWS client reads when the scripted status API answers: EC2's DescribeInstances
document, whose one instance is ``pending`` while the job runs and ``running`` once it
has ended (the EC2 ``InstanceRunning`` waiter's success), or an error status with EC2's
error document and the code EC2 gives that status (a 429 is ``RequestLimitExceeded``,
which AWS clients treat as throttling). A Retry-After is sent as the standard header;
AWS clients read only ``x-amz-retry-after``, which the script never sends.

One module for the Python and the JavaScript runners, so that both meet the same bytes.
"""

from __future__ import annotations

from sim.status_server import Response

#: the job's canonical status -> the EC2 instance state the waiter reads
INSTANCE_STATE = {"running": "pending", "succeeded": "running"}

_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
    "<requestId>00000000-0000-0000-0000-000000000000</requestId>"
    "<reservationSet><item><reservationId>r-0</reservationId><instancesSet><item>"
    "<instanceId>i-0</instanceId><instanceState><code>{code}</code><name>{name}</name>"
    "</instanceState></item></instancesSet></item></reservationSet>"
    "</DescribeInstancesResponse>"
)
_CODES = {"pending": 0, "running": 16}
_ERROR = (
    "<Response><Errors><Error><Code>{code}</Code><Message>{code}</Message></Error></Errors>"
    "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
)
#: EC2's error code for each status the scripts answer
ERROR_CODES = {429: "RequestLimitExceeded", 500: "InternalError", 503: "Unavailable"}


def http_answer(resp: Response) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the scripted answer ``resp``."""
    headers = {"Content-Type": "text/xml;charset=UTF-8"}
    if resp.retry_after is not None:
        headers["Retry-After"] = f"{resp.retry_after:g}"
    if resp.http != 200:
        code = int(resp.http or 503)
        return code, headers, _ERROR.format(code=ERROR_CODES.get(code, "ServerError")).encode()
    name = INSTANCE_STATE[resp.status or "running"]
    body = _DOCUMENT.format(code=_CODES[name], name=name).encode()
    return 200, headers, body
