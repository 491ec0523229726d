"""moto's server app, with what the live tests need and moto lacks added at the HTTP level.

The SDK under test talks the real AWS wire protocol to this server. Requests moto answers well pass straight
through; these are changed or answered here:

* CloudTrail ``LookupEvents`` (moto has no event history): served from fixture events, filtered by the lookup
  attribute and time range, paginated with ``MaxResults``/``NextToken`` like the real API.
* ECS ``DescribeTasks``: moto's answer is patched with fixture fields it does not model (``stopCode``,
  ``stoppedReason``, ``stoppedAt``, container ``exitCode``/``reason``), and tasks marked expired are moved to
  ``failures`` with reason ``MISSING``, as ECS does about an hour after a task stops.
* ECS ``ListTasks`` with ``desiredStatus=STOPPED`` and a ``serviceName``: answered from fixtures (moto does not
  run services' tasks).
* ECS ``DescribeServices``: fixture service events are added.

Fixtures: ``POST /_why/fixtures`` (JSON, merged), ``DELETE /_why/fixtures``; ``POST /moto-api/reset`` also clears
them. ``POST /_why/scenario/<name>`` resets everything and builds a named scenario (see scenarios.py) through the
public API, answering with its facts as JSON. ``GET /_why/health`` answers when the server is up.
"""

import argparse
import io
import json
import os
import sys
import threading
from datetime import datetime, timezone

from werkzeug.serving import run_simple

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ECS_PREFIX = "AmazonEC2ContainerServiceV20141113."
CLOUDTRAIL_LOOKUP = "CloudTrail_20131101.LookupEvents"


class Fixtures:
    """What the tests told us that moto cannot know. Guarded by a lock: the server is threaded."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.cloudtrail_events = []  # full CloudTrail records (dicts)
        self.tasks = {}  # task ARN -> fields to patch into DescribeTasks (and "expired": true)
        self.stopped_tasks = {}  # service name -> [task ARN]
        self.service_events = {}  # service name -> [{"id", "createdAt", "message"}]

    def merge(self, doc):
        with self.lock:
            self.cloudtrail_events.extend(doc.get("cloudtrail_events", []))
            for arn, fields in doc.get("tasks", {}).items():
                self.tasks.setdefault(arn, {}).update(fields)
            for service, arns in doc.get("stopped_tasks", {}).items():
                self.stopped_tasks.setdefault(service, []).extend(arns)
            for service, events in doc.get("service_events", {}).items():
                self.service_events.setdefault(service, []).extend(events)

    def snapshot(self):
        with self.lock:
            return {
                "cloudtrail_events": list(self.cloudtrail_events),
                "tasks": dict(self.tasks),
                "stopped_tasks": dict(self.stopped_tasks),
                "service_events": dict(self.service_events),
            }


FIXTURES = Fixtures()


def parse_time(value):
    """An ISO 8601 string or epoch seconds → aware datetime."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def session_name(record):
    """LookupEvents' user name: the session name of an assumed role, else the user name."""
    identity = record.get("userIdentity", {})
    if identity.get("type") == "AssumedRole":
        return identity.get("arn", "").rsplit("/", 1)[-1]
    return identity.get("userName") or identity.get("arn", "").rsplit("/", 1)[-1]


def lookup_events(request):
    attributes = request.get("LookupAttributes", [])
    start = parse_time(request["StartTime"]) if "StartTime" in request else None
    end = parse_time(request["EndTime"]) if "EndTime" in request else None
    events = FIXTURES.snapshot()["cloudtrail_events"]
    selected = []
    for record in events:
        when = parse_time(record["eventTime"])
        if (start and when < start) or (end and when > end):
            continue
        keep = True
        for attribute in attributes:
            key, value = attribute["AttributeKey"], attribute["AttributeValue"]
            if key == "Username":
                keep = keep and session_name(record) == value
            elif key == "EventName":
                keep = keep and record.get("eventName") == value
            elif key == "EventSource":
                keep = keep and record.get("eventSource") == value
            elif key == "EventId":
                keep = keep and record.get("eventID") == value
        if keep:
            selected.append(record)
    # Newest first, as CloudTrail returns them.
    selected.sort(key=lambda r: parse_time(r["eventTime"]), reverse=True)
    page_size = max(1, min(int(request.get("MaxResults", 50)), 50))
    offset = int(request.get("NextToken") or 0)
    page = selected[offset : offset + page_size]
    body = {
        "Events": [
            {
                "EventId": r.get("eventID"),
                "EventName": r.get("eventName"),
                "ReadOnly": str(r.get("readOnly", False)).lower(),
                "EventTime": parse_time(r["eventTime"]).timestamp(),
                "EventSource": r.get("eventSource"),
                "Username": session_name(r),
                "Resources": [],
                "CloudTrailEvent": json.dumps(r),
            }
            for r in page
        ]
    }
    if offset + page_size < len(selected):
        body["NextToken"] = str(offset + page_size)
    return body


def patch_describe_tasks(request, body):
    fixtures = FIXTURES.snapshot()["tasks"]
    kept, failures = [], list(body.get("failures", []))
    for task in body.get("tasks", []):
        fields = fixtures.get(task.get("taskArn"), {})
        if fields.get("expired"):
            failures.append({"arn": task["taskArn"], "reason": "MISSING"})
            continue
        for key, value in fields.items():
            if key == "containers":
                by_name = {c.get("name"): c for c in task.get("containers", [])}
                for name, container_fields in value.items():
                    by_name.setdefault(name, {"name": name}).update(container_fields)
                task["containers"] = list(by_name.values())
            elif key in ("stoppedAt", "stoppingAt", "startedAt", "createdAt", "executionStoppedAt"):
                task[key] = parse_time(value).timestamp()
            else:
                task[key] = value
        kept.append(task)
    # Tasks moto never had (an expired task ARN): ECS answers MISSING for those.
    answered = {t.get("taskArn") for t in body.get("tasks", [])} | {f.get("arn") for f in failures}
    for arn in request.get("tasks", []):
        if arn not in answered and arn.startswith("arn:"):
            failures.append({"arn": arn, "reason": "MISSING"})
    body["tasks"], body["failures"] = kept, failures
    return body


def patch_describe_services(body):
    events = FIXTURES.snapshot()["service_events"]
    for service in body.get("services", []):
        extra = events.get(service.get("serviceName"), [])
        if extra:
            converted = [dict(e, createdAt=parse_time(e["createdAt"]).timestamp()) for e in extra]
            service["events"] = sorted(
                converted + list(service.get("events", [])), key=lambda e: e.get("createdAt", 0), reverse=True
            )
    return body


class WhyApp:
    """WSGI middleware around moto's dispatcher."""

    def __init__(self, moto_app, port):
        self.moto_app = moto_app
        self.url = f"http://127.0.0.1:{port}"
        self.scenario_lock = threading.Lock()

    def respond(self, start_response, status, doc, content_type="application/x-amz-json-1.1"):
        data = json.dumps(doc).encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]

    def call_moto(self, environ, body):
        """Runs moto on a (re-supplied) request body; returns status, headers and body bytes."""
        environ = dict(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        chunks = self.moto_app(environ, start_response)
        data = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return captured["status"], captured["headers"], data

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""

        if path == "/_why/health":
            return self.respond(start_response, "200 OK", {"ok": True}, "application/json")
        if path == "/_why/fixtures":
            if method == "POST":
                FIXTURES.merge(json.loads(body or b"{}"))
            elif method == "DELETE":
                with FIXTURES.lock:
                    FIXTURES.clear()
            return self.respond(start_response, "200 OK", FIXTURES.snapshot(), "application/json")
        if path.startswith("/_why/scenario/") and method == "POST":
            return self.scenario(path.rsplit("/", 1)[-1], environ, start_response)
        if path == "/moto-api/reset":
            with FIXTURES.lock:
                FIXTURES.clear()

        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == CLOUDTRAIL_LOOKUP:
            return self.respond(start_response, "200 OK", lookup_events(json.loads(body or b"{}")))
        if target == ECS_PREFIX + "ListTasks":
            request = json.loads(body or b"{}")
            service = request.get("serviceName")
            if request.get("desiredStatus") == "STOPPED" and service:
                arns = FIXTURES.snapshot()["stopped_tasks"].get(service, [])
                limit = int(request.get("maxResults", 100))
                return self.respond(start_response, "200 OK", {"taskArns": arns[:limit]})
        if target in (ECS_PREFIX + "DescribeTasks", ECS_PREFIX + "DescribeServices"):
            status, headers, data = self.call_moto(environ, body)
            if status.startswith("200"):
                doc = json.loads(data)
                if target.endswith("DescribeTasks"):
                    doc = patch_describe_tasks(json.loads(body or b"{}"), doc)
                else:
                    doc = patch_describe_services(doc)
                data = json.dumps(doc).encode()
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(data))))
            start_response(status, headers)
            return [data]

        status, headers, data = self.call_moto(environ, body)
        start_response(status, headers)
        return [data]

    def scenario(self, name, environ, start_response):
        import importlib

        import scenarios

        # Re-read on each request: editing a scenario needs no server restart.
        importlib.reload(scenarios)
        builder = scenarios.SCENARIOS.get(name)
        if builder is None:
            return self.respond(
                start_response, "404 Not Found", {"error": f"no scenario `{name}`"}, "application/json"
            )
        # One scenario at a time: each starts from an empty emulator.
        with self.scenario_lock:
            reset_status, _, _ = self.call_moto(
                dict(environ, PATH_INFO="/moto-api/reset", REQUEST_METHOD="POST"), b""
            )
            with FIXTURES.lock:
                FIXTURES.clear()
            try:
                facts = builder(scenarios.Emulator(self.url, FIXTURES))
            except Exception as e:  # the test shows this text when a scenario cannot be built
                import traceback

                return self.respond(
                    start_response,
                    "500 Internal Server Error",
                    {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()},
                    "application/json",
                )
        return self.respond(start_response, "200 OK", facts, "application/json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    moto_app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        "127.0.0.1",
        args.port,
        WhyApp(moto_app, args.port),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
