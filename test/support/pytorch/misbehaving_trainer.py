"""A trainer that breaks the protocol on purpose (test/integration/pytorch/host.test.ts): started in
place of `python3 -m densenet_torch --protocol`, it says ready, waits for the host's start, then
sends malformed and out-of-order lines among good ones, and finishes the run properly."""
import json
import os
import sys


def send(obj):
    sys.stdout.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
    sys.stdout.flush()


send({"type": "ready", "pid": os.getpid(), "protocol": 1})
start = json.loads(sys.stdin.readline())
run = os.path.basename(start["runDir"])


def step(n, run_id=run):
    return {"type": "step", "runId": run_id, "step": n, "epoch": 0, "epochStep": n, "stepsPerEpoch": 4, "loss": 2.0, "accuracy": 0.1,
            "lr": 0.1, "imagesPerSec": 10.0, "time": 1.0}


send({"type": "state", "state": "created", "runId": run})
send({"type": "state", "state": "running", "runId": run})
send(step(1))
send("Traceback (most recent call last): this is not JSON")
send({"type": "step", "runId": run, "step": "two"})
send(step(1))
send({"type": "ready", "pid": os.getpid(), "protocol": 1})
send(step(2, "someone-else"))
send(step(2))
send({"type": "finished", "runId": run, "reason": "completed", "step": 2, "epoch": 1, "bestValAccuracy": None, "time": 2.0})
send(step(3))
sys.stdin.read()  # until the host closes the channel
