"""The worker lines of the Procfile and docker-compose.yml, generated from the consumer
declarations of tasks/ (apps/messaging/consumers.py) by `manage.py broker generate`
(generated.py).

Every other line of the two files is kept as written. Each worker's pool is tuned by
`WORKER_<SERVICE>_POOL` / `_CONCURRENCY` / `_PREFETCH` / `_MAX_TASKS_PER_CHILD` /
`_MAX_MEMORY_PER_CHILD`, falling back to its declared defaults, and for recycling to the
global `WORKER_MAX_TASKS_PER_CHILD` / `WORKER_MAX_MEMORY_PER_CHILD` (README).
"""

import json
import re

from apps.messaging.consumers import consumers

# Pool process recycling when neither the worker's nor the global variable is set.
MAX_TASKS_PER_CHILD = 1000
MAX_MEMORY_PER_CHILD_KB = 262144
WORKER_PREFIX = "worker-"
COMPOSE_SERVICE = re.compile(r"^  ([A-Za-z0-9_-]+):\s*$")


class GeneratedFileError(ValueError):
    """A file the worker lines cannot be placed in (no worker line to replace)."""


def worker_command(service, dollar="$"):
    """The shell command of a worker service; `dollar` is `$$` in compose (its escape
    for a `$` the container's shell expands)."""
    knob = service.knob_prefix
    d = dollar
    return (
        f"celery -A propmgmt worker -Q {','.join(service.queues)} -n {service.name}@%h"
        f" -P {d}{{{knob}POOL:-{service.pool}}}"
        f" -c {d}{{{knob}CONCURRENCY:-{service.concurrency}}}"
        f" --prefetch-multiplier {d}{{{knob}PREFETCH:-{service.prefetch}}}"
        f" --max-tasks-per-child {d}{{{knob}MAX_TASKS_PER_CHILD:-"
        f"{d}{{WORKER_MAX_TASKS_PER_CHILD:-{MAX_TASKS_PER_CHILD}}}}}"
        f" --max-memory-per-child {d}{{{knob}MAX_MEMORY_PER_CHILD:-"
        f"{d}{{WORKER_MAX_MEMORY_PER_CHILD:-{MAX_MEMORY_PER_CHILD_KB}}}}}"
        f" --loglevel {d}{{LOG_LEVEL:-INFO}}"
    )


def _replace_span(lines, is_worker, generated, where):
    """`lines` with the span from the first to the last worker line replaced."""
    indices = [i for i, line in enumerate(lines) if is_worker(line)]
    if not indices:
        raise GeneratedFileError(f"{where} has no worker line to replace")
    return lines[: indices[0]] + generated + lines[indices[-1] + 1 :]


def procfile_text(text, services=None):
    """The Procfile `text` with its worker lines generated."""
    services = consumers().services if services is None else services
    generated = [f"{s.process}: {worker_command(s)}" for s in services]
    lines = text.splitlines()
    lines = _replace_span(lines, lambda line: line.startswith(WORKER_PREFIX), generated, "Procfile")
    return "\n".join(lines) + "\n"


def _compose_block(service):
    command = json.dumps(["sh", "-c", worker_command(service, dollar="$$")])
    return [
        f"  {service.process}:",
        "    <<: *app",
        f"    command: {command}",
        "    # SIGTERM: the task in hand finishes (warm shutdown) before the container stops.",
        "    stop_grace_period: 5m",
        "    restart: unless-stopped",
        "",
    ]


def compose_text(text, services=None):
    """docker-compose.yml's `text` with its worker services generated (a worker service
    runs from its name's line up to the next service)."""
    services = consumers().services if services is None else services
    lines = text.splitlines()
    in_worker = []
    current = False
    for line in lines:
        header = COMPOSE_SERVICE.match(line)
        if header or (line and not line.startswith(" ")):
            current = bool(header) and header.group(1).startswith(WORKER_PREFIX)
        in_worker.append(current)
    flags = iter(in_worker)
    generated = [line for service in services for line in _compose_block(service)]
    lines = _replace_span(lines, lambda _: next(flags), generated, "docker-compose.yml")
    return "\n".join(lines) + "\n"
