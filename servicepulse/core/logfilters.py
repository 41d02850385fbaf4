"""Filters for the `LOGGING` setting (config/settings/base.py)."""

from __future__ import annotations

import logging

# Answers that are the request's doing, not a fault of the code: a role check refusing a page
# (`PermissionDenied`, accounts/roles.py) and a missing object (`Http404`).
EXPECTED_REFUSALS = frozenset({403, 404})


class RefusalWithoutTraceback(logging.Filter):
    """One line, without the exception's traceback, for a `django.request` record of an expected refusal.

    Django logs every response it made from an exception with that exception attached: each 403 a role check
    raised was written with a full Python traceback, a dozen lines that read like a crash. The record keeps its
    line, with the exception's own message, "Forbidden (Permission denied): /users/ (this page needs the Admin
    role)"; a 500 keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) not in EXPECTED_REFUSALS or not record.exc_info:
            return True
        exc = record.exc_info[1]
        # Django formats its line from positional arguments (the path); a record without them is left as it is.
        if exc is not None and str(exc) and isinstance(record.args, tuple) and record.args:
            record.msg = f"{record.msg} (%s)"
            record.args = (*record.args, str(exc))
        record.exc_info = None
        record.exc_text = None
        return True
