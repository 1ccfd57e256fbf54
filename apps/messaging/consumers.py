"""One declaration per consumer: its worker service, queues, events and pool, next to its code.

A consumer module in tasks/ says, at its top, which worker service runs it:

    consumer = Consumer("maintenance", queues=["repair_requests"], priority=True, concurrency=1)

    @consumer.task("maintenance.notify_repair_requested", subscribes=["repair.requested"])
    def notify_repair_requested(self, event): ...

`Consumer(service, queues=[...])` declares a worker service (`worker-<service>` in the
Procfile and docker-compose.yml, `WORKER_<SERVICE>_*` knobs) and the work queues it
consumes; `priority=True` gives its queues message priorities (urgent work overtakes);
`pool`, `concurrency` and `prefetch` are its defaults. A module whose tasks run on another
module's service names it with no queues (`Consumer("reporting")`). `@consumer.task(name,
queue=..., subscribes=[...])` is Celery's `shared_task(bind=True, name=name)` (the base
task is the app's `task_cls`); a task goes to its service's first queue unless it names
another of them (`queue=`).

celeryconfig.py derives its queues, routes, subscriptions and module list from these
declarations, and `manage.py broker generate` the worker lines. It reads them from the
source of tasks/*.py (`consumer_table`) rather than by importing the modules: those import
the domain's services and models, and celeryconfig is loaded before Django's apps are.
So their arguments are literals; a test checks that what the imported modules declare is
what was read.
"""

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from celery import shared_task

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"
TASKS_PACKAGE = "tasks"


class ConsumerDeclarationError(ValueError):
    """A declaration in tasks/ that cannot be read or does not fit the others."""


@dataclass(frozen=True)
class ConsumerTaskDeclaration:
    name: str
    queue: str | None = None
    subscribes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkerService:
    """A worker process kind: the queues it consumes and its pool defaults."""

    name: str
    queues: tuple[str, ...]
    priority: bool
    pool: str
    concurrency: int
    prefetch: int
    module: str

    @property
    def process(self):
        """Its name in the Procfile and docker-compose.yml."""
        return "worker-" + self.name.replace("_", "-")

    @property
    def knob_prefix(self):
        """Its environment variables: WORKER_<SERVICE>_POOL, _CONCURRENCY, ..."""
        return f"WORKER_{self.name.upper()}_"


class Consumer:
    """A consumer module's declaration (see the module docstring)."""

    def __init__(
        self, service, *, queues=(), priority=False, pool="prefork", concurrency=2, prefetch=1
    ):
        self.service = service
        self.queues = tuple(queues)
        self.priority = priority
        self.pool = pool
        self.concurrency = concurrency
        self.prefetch = prefetch
        self.tasks = []

    def task(self, name, *, queue=None, subscribes=(), **options):
        """Register the decorated function as the consumer task `name` (`options` are
        Celery's task options: `base`, `max_retries`, ...)."""
        self.tasks.append(ConsumerTaskDeclaration(name, queue, tuple(subscribes)))
        return shared_task(bind=True, name=name, **options)

    def declared(self):
        """Comparable form: (service, queues, priority, pool, concurrency, prefetch, tasks)."""
        return (
            self.service,
            self.queues,
            self.priority,
            self.pool,
            self.concurrency,
            self.prefetch,
            tuple(self.tasks),
        )


@dataclass(frozen=True)
class ConsumerTable:
    """Every declaration of tasks/, checked and joined."""

    services: tuple[WorkerService, ...]
    # task name -> queue, in declaration order
    routes: dict
    # event -> [task names]
    subscriptions: dict
    # module -> [Consumer] as read from its source
    modules: dict

    @property
    def queues(self):
        return tuple(queue for service in self.services for queue in service.queues)

    @property
    def priority_queues(self):
        return tuple(q for service in self.services if service.priority for q in service.queues)


def _literal(node, path):
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ConsumerDeclarationError(
            f"{path}:{node.lineno}: a consumer declaration takes literals only "
            f"(celeryconfig reads it without importing the module): {ast.unparse(node)}"
        ) from None


def _call_arguments(call, path, keywords):
    args = [_literal(arg, path) for arg in call.args]
    kwargs = {k.arg: _literal(k.value, path) for k in call.keywords if k.arg in keywords}
    return args, kwargs


TASK_KEYWORDS = ("queue", "subscribes")
CONSUMER_KEYWORDS = ("queues", "priority", "pool", "concurrency", "prefetch")


def _task_calls(tree, declared_names):
    """(consumer variable, call) of every `<consumer>.task(...)` in a module."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "task"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in declared_names
        ):
            yield node.func.value.id, node


def module_consumers(path):
    """The Consumers a tasks/ module declares, read from its source."""
    tree = ast.parse(path.read_text(), filename=str(path))
    consumers = {}
    for node in tree.body:
        call = node.value if isinstance(node, ast.Assign) else None
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Consumer":
            [target] = node.targets
            args, kwargs = _call_arguments(call, path, CONSUMER_KEYWORDS)
            consumers[target.id] = Consumer(*args, **kwargs)
    for variable, call in _task_calls(tree, consumers):
        args, kwargs = _call_arguments(call, path, TASK_KEYWORDS)
        name = (
            args[0]
            if args
            else _literal(next(k.value for k in call.keywords if k.arg == "name"), path)
        )
        kwargs["subscribes"] = tuple(kwargs.get("subscribes", ()))
        consumers[variable].tasks.append(ConsumerTaskDeclaration(name, **kwargs))
    return list(consumers.values())


def _services(modules):
    services = {}
    for module, consumers in modules.items():
        for consumer in consumers:
            if not consumer.queues:
                continue
            if consumer.service in services:
                raise ConsumerDeclarationError(
                    f"worker service {consumer.service!r} declared with queues twice "
                    f"({services[consumer.service].module} and {module})"
                )
            services[consumer.service] = WorkerService(
                name=consumer.service,
                queues=consumer.queues,
                priority=consumer.priority,
                pool=consumer.pool,
                concurrency=consumer.concurrency,
                prefetch=consumer.prefetch,
                module=module,
            )
    owners = {}
    for service in services.values():
        for queue in service.queues:
            if queue in owners:
                raise ConsumerDeclarationError(
                    f"queue {queue!r} consumed by two services: {owners[queue]}, {service.name}"
                )
            owners[queue] = service.name
    return services


def _task_queue(task, service, module):
    if task.queue is None:
        return service.queues[0]
    if task.queue in service.queues:
        return task.queue
    raise ConsumerDeclarationError(
        f"{module}: task {task.name} routed to {task.queue!r}, not a queue of worker "
        f"service {service.name!r} ({', '.join(service.queues)})"
    )


def consumer_table(directory=TASKS_DIR, package=TASKS_PACKAGE):
    """Read and check every declaration of the consumer modules in `directory`."""
    modules = {}
    for path in sorted(directory.glob("*.py")):
        consumers = module_consumers(path)
        if consumers:
            modules[f"{package}.{path.stem}"] = consumers
    services = _services(modules)
    routes, subscriptions = {}, {}
    for module, consumers in modules.items():
        for consumer in consumers:
            service = services.get(consumer.service)
            if service is None:
                raise ConsumerDeclarationError(
                    f"{module}: no module declares the queues of worker service "
                    f"{consumer.service!r}"
                )
            for task in consumer.tasks:
                if task.name in routes:
                    raise ConsumerDeclarationError(f"{module}: task {task.name} declared twice")
                routes[task.name] = _task_queue(task, service, module)
                for event in task.subscribes:
                    subscriptions.setdefault(event, []).append(task.name)
    return ConsumerTable(tuple(services.values()), routes, subscriptions, modules)


@cache
def consumers():
    """The table of tasks/ (read once per process)."""
    return consumer_table()
