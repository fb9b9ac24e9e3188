"""The seed tutorial, driven through the Python SDK generated from openapi/openapi.json.

Run by tests/api/sdk.rs with the generated package `pgward_client` on PYTHONPATH and, in the
environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, SOURCE_URL (a PostgreSQL database to back up),
TARGET_URL (an empty database to restore into), BACKUP_DIR (a directory for a local destination),
PING_URL (a Healthchecks-style receiver). Every call is typed: a response that is not the declared
model fails the script. Prints one JSON line of what it made; exits non-zero on any failure.
"""

import json
import os
import sys
import time

from pgward_client import AuthenticatedClient, Client
from pgward_client.api.auth import login, setup
from pgward_client.api.databases import create_database
from pgward_client.api.destinations import create_destination
from pgward_client.api.executions import get_execution, run_task
from pgward_client.api.restorations import create_restoration, get_restoration
from pgward_client.api.tasks import create_task, task_next_runs
from pgward_client.api.tokens import create_api_token
from pgward_client.api.webhooks import create_webhook
from pgward_client.models import (
    ApiError,
    CreateApiTokenRequest,
    CreateDatabaseRequest,
    CreateDestinationRequest,
    CreatedApiToken,
    CreateRestorationRequest,
    CreateWebhookRequest,
    Database,
    Destination,
    DestinationConfigType0,
    DestinationConfigType0Kind,
    Execution,
    ExecutionStatus,
    LoginRequest,
    NextRuns,
    Restoration,
    RestorationStatus,
    RestoreTargetType1,
    RestoreTargetType1Kind,
    RetentionPolicy,
    Role,
    SetupRequest,
    Task,
    TaskSpec,
    TokenPair,
    User,
    Webhook,
    WebhookKind,
    WebhookTargets,
)

env = os.environ
base = env["BASE_URL"]


def expect(value, model, what):
    """The typed answer, or the script fails with what the server said."""
    if isinstance(value, ApiError):
        sys.exit(f"{what}: {value.code} {value.message}")
    if not isinstance(value, model):
        sys.exit(f"{what}: expected {model.__name__}, got {value!r}")
    return value


def until(what, fetch, done, timeout=300.0):
    """Polls `fetch` until `done` holds for its answer (a bounded wait, not a sleep for timing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            sys.exit(f"{what}: still {value!r} after {timeout} s")
        time.sleep(0.2)


public = Client(base_url=base, raise_on_unexpected_status=True)
expect(
    setup.sync(
        client=public,
        body=SetupRequest(email=env["ADMIN_EMAIL"], password=env["ADMIN_PASSWORD"], name="SDK"),
    ),
    User,
    "setup",
)
pair = expect(
    login.sync(client=public, body=LoginRequest(email=env["ADMIN_EMAIL"], password=env["ADMIN_PASSWORD"])),
    TokenPair,
    "login",
)
session = AuthenticatedClient(base_url=base, token=pair.access_token, raise_on_unexpected_status=True)
created = expect(
    create_api_token.sync(
        client=session, body=CreateApiTokenRequest(name="sdk tutorial", expires_in_days=1, role=Role.OPERATOR)
    ),
    CreatedApiToken,
    "token",
)
# From here on, automation: the API token, as a CI job would hold it.
api = AuthenticatedClient(base_url=base, token=created.token, raise_on_unexpected_status=True)

source = expect(
    create_database.sync(client=api, body=CreateDatabaseRequest(name="shop", connection_string=env["SOURCE_URL"])),
    Database,
    "database",
)
target = expect(
    create_database.sync(
        client=api, body=CreateDatabaseRequest(name="shop restore check", connection_string=env["TARGET_URL"])
    ),
    Database,
    "target database",
)
disk = expect(
    create_destination.sync(
        client=api,
        body=CreateDestinationRequest(
            name="disk",
            config=DestinationConfigType0(kind=DestinationConfigType0Kind.LOCAL, path=env["BACKUP_DIR"]),
        ),
    ),
    Destination,
    "destination",
)
task = expect(
    create_task.sync(
        client=api,
        body=TaskSpec(
            name="shop nightly",
            database_id=source.id,
            destination_ids=[disk.id],
            schedule="30 2 * * *",
            timezone="Europe/Paris",
            retention=RetentionPolicy(keep_last=7, keep_days=30),
        ),
    ),
    Task,
    "task",
)
runs = expect(task_next_runs.sync(client=api, id=task.id), NextRuns, "next runs")
hook = expect(
    create_webhook.sync(
        client=api,
        body=CreateWebhookRequest(
            name="healthchecks",
            kind=WebhookKind.HEALTHCHECKS,
            url=env["PING_URL"],
            targets=WebhookTargets(task_ids=[task.id]),
        ),
    ),
    Webhook,
    "webhook",
)

execution = expect(run_task.sync(client=api, id=task.id), Execution, "run now")
execution = until(
    "backup",
    lambda: expect(get_execution.sync(client=api, id=execution.id), Execution, "execution"),
    lambda e: e.status not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING),
)
if execution.status != ExecutionStatus.SUCCESS:
    sys.exit(f"backup ended {execution.status}: {execution.message!r} {execution.stderr_tail!r}")

restoration = expect(
    create_restoration.sync(
        client=api,
        body=CreateRestorationRequest(
            execution_id=execution.id,
            target=RestoreTargetType1(kind=RestoreTargetType1Kind.DATABASE, database_id=target.id),
        ),
    ),
    Restoration,
    "restore",
)
restoration = until(
    "restore",
    lambda: expect(get_restoration.sync(client=api, id=restoration.id), Restoration, "restoration"),
    lambda r: r.status not in (RestorationStatus.QUEUED, RestorationStatus.RUNNING),
)
if restoration.status != RestorationStatus.SUCCESS:
    sys.exit(f"restore ended {restoration.status}: {restoration.message!r} {restoration.stderr_tail!r}")

print(
    json.dumps(
        {
            "task": str(task.id),
            "next_runs": [r.isoformat() for r in runs.runs],
            "webhook": str(hook.id),
            "execution": str(execution.id),
            "size": execution.size,
            "restoration": str(restoration.id),
        }
    )
)
