#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "propmgmt.settings")
    from django.core.management import execute_from_command_line

    from apps.messaging.correlation import new_correlation_id, set_correlation_id

    # One correlation id for everything a command does and logs (CORRELATION_ID to
    # join an existing trail); a request or a message being handled overrides it.
    set_correlation_id(os.environ.get("CORRELATION_ID") or new_correlation_id())
    execute_from_command_line(sys.argv)
