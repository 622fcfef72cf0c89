#!/usr/bin/env python3
"""A Nightshift worker in plain Python (standard library only).

Start a pool of them:

    nightshift worker add words --queue words --count 2 -- python3 examples/worker.py

and give them jobs:

    nightshift add --queue words --payload '{"text": "the quick brown fox"}'

Each job's result is {"words": N}: the number of words in the payload's "text" (read from
the file named in "payload_file" when the payload is large). The protocol is JSON Lines over
standard input and output (docs/workers.md): say "ready" once, then for each "job" message
answer with one "result". Anything printed to standard error goes to the job's log. While a
job runs, a "cancel" for it may arrive; this worker checks between words and stops. Set
HEARTBEAT_SECONDS when the pool is made with --heartbeat: the worker then says it is alive
that often while it works.
"""

import json
import os
import queue
import sys
import threading
import time

HEARTBEAT = float(os.environ.get("HEARTBEAT_SECONDS", "0"))
# Standard output carries the protocol: one writer at a time, a whole line each.
_out = threading.Lock()


def send(message):
    with _out:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def read_messages(inbox):
    """Reads Nightshift's messages on a thread of its own, so a cancel arrives mid-job."""
    for line in sys.stdin:
        try:
            inbox.put(json.loads(line))
        except ValueError:
            print(f"not a message: {line!r}", file=sys.stderr)
    inbox.put(None)  # standard input closed: Nightshift wants the worker to finish


def payload_of(job):
    if job.get("payload_file"):
        with open(job["payload_file"], encoding="utf-8") as f:
            return json.load(f)
    return job.get("payload") or {}


def run(job, inbox, cancelled):
    text = str(payload_of(job).get("text", ""))
    words = text.split()
    last_beat = time.monotonic()
    for i, _ in enumerate(words):
        # Messages that came meanwhile: a cancel for this job stops it.
        while not inbox.empty():
            message = inbox.queue[0]
            if message and message.get("type") == "cancel" and message.get("id") == job["id"]:
                inbox.get()
                cancelled.add(job["id"])
                return {"ok": False, "error": "cancelled: " + message.get("reason", "")}
            break
        if HEARTBEAT and time.monotonic() - last_beat >= HEARTBEAT:
            send({"type": "heartbeat"})
            last_beat = time.monotonic()
        if i and i % 1000 == 0:
            send({"type": "progress", "id": job["id"], "done": i, "total": len(words)})
    return {"ok": True, "value": {"words": len(words)}}


def main():
    inbox = queue.Queue()
    threading.Thread(target=read_messages, args=(inbox,), daemon=True).start()
    print("word counter starting", file=sys.stderr)
    send({"type": "ready"})
    cancelled = set()
    while True:
        message = inbox.get()
        if message is None:
            return
        if message.get("type") != "job":
            continue  # a cancel for a job already answered, or a message from a newer Nightshift
        print(f"job {message['id']}, attempt {message['attempt']}", file=sys.stderr)
        try:
            outcome = run(message, inbox, cancelled)
        except Exception as e:  # a bad payload fails the job, not the worker
            outcome = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        send({"type": "result", "id": message["id"], **outcome})


if __name__ == "__main__":
    main()
