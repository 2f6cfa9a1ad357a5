"""SCIM conformance of a running baocao, checked by scim2-tester (an outside
client that knows RFC 7643/7644, not ours).

Usage: SCIM_TOKEN=… python conformance.py URL

Discovery and miscellaneous checks run as they are; the CRUD checks run on
Users only, because baocao's Groups are its roles, read-only by design.
Exits non-zero on any failed check and prints every result.
"""

import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    url, token = sys.argv[1], os.environ["SCIM_TOKEN"]
    http = Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
    client = SyncSCIMClient(http)
    results = check_server(client, resource_types=["User"])
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    for r in results:
        where = f" [{r.resource_type}]" if r.resource_type else ""
        print(f"{r.status.name:8} {r.title}{where}: {r.reason}")
    print(f"{len(results)} checks, {len(failed)} failed")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
