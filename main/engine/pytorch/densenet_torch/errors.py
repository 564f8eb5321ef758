"""Errors as the workbench's protocol carries them: `{name, message, stack?, user?}`.

A UserError is bad input the user can fix (a bad run folder, a config, a batch too large for the
GPU): its message is a sentence naming the value and what is accepted, and it travels without a
stack trace. Anything else is a bug or a crash and travels with one.
"""
import traceback
from typing import Any, Dict


class UserError(Exception):
    """Bad input; `name` is what the protocol reports (WorkbenchError on the TS side)."""

    name = "WorkbenchError"


def error_data(err: BaseException, with_stack: bool = True) -> Dict[str, Any]:
    if isinstance(err, UserError):
        return {"name": err.name, "message": str(err), "user": True}
    data: Dict[str, Any] = {"name": type(err).__name__, "message": str(err) or type(err).__name__, "user": False}
    if with_stack:
        data["stack"] = "".join(traceback.format_exception(type(err), err, err.__traceback__))[-4000:]
    return data
