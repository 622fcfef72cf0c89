"""Schemathesis hooks for `cargo xtask fuzz` (loaded through SCHEMATHESIS_HOOKS).

They teach the fuzzer what the description says in words only, never loosening a check:

- the custom string formats of the description (`duration`, `heartbeat`, `cron`, `path`) get
  generators of values the server accepts, and a positive case with a string such a format
  refuses is dropped;
- `application/x-ndjson` (the batch body, described as an array of enqueue requests) is sent
  as JSON Lines, one element per line, and read back the same way (the history export,
  described as an array of rows), so its every line is validated against the description;
- long polls are kept short: the fuzzing daemon is paused, so its jobs never end, and a wait
  without a timeout or a followed log would never answer. Only values valid by the schema are
  replaced by other valid ones, so no negative case changes its nature.
"""

import json
import re

import schemathesis
from hypothesis import strategies as st

# A duration with a unit, as `nightshift_core::duration::parse` reads it: a second or more, so
# that it is also a schedule's interval (at least a second), and under 30 years, so that it is
# also a delay (at most 100 years).
# (A named function, not a lambda: Hypothesis reads a lambda's source to describe it, which
# has failed under Python 3.11 with "AST constructor recursion depth mismatch".)
def _duration(n, unit):
    return f"{n}{unit}"


schemathesis.openapi.format(
    "human-duration",
    st.builds(
        _duration,
        st.integers(min_value=1, max_value=10_000),
        st.sampled_from(["s", "m", "h", "d"]),
    ),
)

# A worker pool's heartbeat: 1 s to 1 h.
schemathesis.openapi.format(
    "heartbeat",
    st.builds(_duration, st.integers(min_value=1, max_value=3600), st.just("s")),
)

# A snooze: 1 minute to 30 days.
schemathesis.openapi.format(
    "snooze",
    st.builds(_duration, st.integers(min_value=1, max_value=720), st.just("h")),
)

# A cron expression or nickname that `nightshift_core::recurrence::CronSchedule` reads.
schemathesis.openapi.format(
    "cron",
    st.sampled_from(["30 2 * * *", "*/5 * * * *", "0 9-17 * * 1-5", "@daily", "@hourly"]),
)

# An absolute path to a directory that exists on every machine.
schemathesis.openapi.format("path", st.sampled_from(["/", "/tmp"]))


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, list):
        return "".join(json.dumps(item) + "\n" for item in value).encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return (json.dumps(value) + "\n").encode()


@schemathesis.deserializer("application/x-ndjson")
def ndjson_lines(ctx, response):
    text = response.content.decode(response.encoding or "utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


# The longest a wait may last in the fuzz run (ms).
WAIT_CAP_MS = 200

DURATION = re.compile(r"^[1-9][0-9]*[smhd]$")
HEARTBEAT = re.compile(r"^[1-9][0-9]{0,3}s$")
SNOOZE = re.compile(r"^[1-9][0-9]{0,5}[mhd]$")


def _snooze_ms(v):
    """A snooze's length in ms if it is 1 minute to 30 days, else None."""
    ms = int(v[:-1]) * {"m": 60_000, "h": 3_600_000, "d": 86_400_000}[v[-1]]
    return ms if 60_000 <= ms <= 30 * 86_400_000 else None


CRONS = ["30 2 * * *", "*/5 * * * *", "0 9-17 * * 1-5", "@daily", "@hourly"]
PATHS = ["/", "/tmp"]

# Fields whose schema is a custom format, with what the format admits. The fuzzer cannot
# validate a custom format, so its coverage phase may offer any string there as valid
# (`"cron": "AAA"`); such a positive case is dropped. (Dropped, not mended: a case changed in a
# hook is judged again, and a custom format is then taken for broken.)
FORMATTED = {
    "timeout": lambda v: bool(DURATION.match(v)),
    "delay": lambda v: bool(DURATION.match(v)),
    "every": lambda v: bool(DURATION.match(v)),
    "retry_backoff": lambda v: bool(DURATION.match(v)),
    "heartbeat": lambda v: bool(HEARTBEAT.match(v)) and int(v[:-1]) <= 3600,
    "cron": lambda v: v in CRONS,
    "for": lambda v: bool(SNOOZE.match(v)) and _snooze_ms(v) is not None,
    "cwd": lambda v: v in PATHS,
}


# Fields that hold the user's own data, whose keys are not the request's.
OPAQUE = {"payload", "env"}


def _well_formatted(value):
    if isinstance(value, list):
        return all(_well_formatted(item) for item in value)
    if isinstance(value, dict):
        for key, item in value.items():
            if key in OPAQUE:
                continue
            admits = FORMATTED.get(key)
            if admits is not None and isinstance(item, str) and not admits(item):
                return False
            if not _well_formatted(item):
                return False
    return True


def _unsent(query):
    """Whether a query parameter is None or an empty list: the HTTP client sends no such
    parameter at all, so what the server gets is not the case the fuzzer judges. (Seed 7 made
    `{'step': '791h', 'queue': 'null', '': []}` a negative case, sent as a valid request.)"""
    return isinstance(query, dict) and any(v is None or v == [] for v in query.values())


@schemathesis.hook
def filter_case(ctx, case):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return not _unsent(case.query)
    return _well_formatted(case.body) and _well_formatted(case.query)


def _whole(value):
    """Whether `value` is a JSON integer (`3` or `3.0`) of the range of `timeout_ms`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return float(value).is_integer() and 0 <= value <= 2**64 - 1


@schemathesis.hook
def map_case(ctx, case):
    path = case.operation.path
    if path == "/api/jobs/wait" and isinstance(case.body, dict):
        timeout = case.body.get("timeout_ms")
        if timeout is None or _whole(timeout):
            case.body["timeout_ms"] = min(int(timeout or WAIT_CAP_MS), WAIT_CAP_MS)
    if path == "/api/jobs/{id}/logs" and isinstance(case.query, dict):
        if case.query.get("follow") in (True, "true"):
            case.query["follow"] = "false"
    return case
