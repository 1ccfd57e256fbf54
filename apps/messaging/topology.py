"""The whole broker topology as text (`manage.py broker topology`): what celeryconfig.py
declares and derives from the consumer declarations of tasks/, read without a broker."""

import celeryconfig
from apps.messaging.procfile import MAX_MEMORY_PER_CHILD_KB, MAX_TASKS_PER_CHILD


def _arguments(arguments):
    return ", ".join(f"{key}={value}" for key, value in sorted((arguments or {}).items()))


def _queue_line(queue):
    binding = queue.routing_key or _arguments(queue.binding_arguments)
    line = f"  {queue.name:<28} <- {queue.exchange.name} ({binding})"
    return f"{line}  {_arguments(queue.queue_arguments)}".rstrip()


def topology_lines():
    config = celeryconfig
    lines = ["exchanges:"]
    lines += [f"  {e.name:<28} {e.type}, durable" for e in config.EXCHANGES]
    lines.append("work queues (queue <- exchange (routing key)  arguments):")
    lines += [_queue_line(queue) for queue in config.WORK_QUEUES]
    lines.append("dead-letter queues:")
    lines += [_queue_line(queue) for queue in config.DEAD_LETTER_QUEUES]
    lines.append(f"retry delay queues (header {config.RETRY_DELAY_HEADER}):")
    lines += [_queue_line(queue) for queue in config.DELAY_QUEUES]
    urgencies = ", ".join(f"{u}={p}" for u, p in config.URGENCY_PRIORITY.items())
    lines.append(f"queue type: {config.BROKER_QUEUE_TYPE} (BROKER_QUEUE_TYPE)")
    if config.URGENT_LANES:
        lines.append("urgent lanes (urgent work for a queue goes to its lane, same workers):")
        lines += [f"  {queue:<28} -> {lane}" for queue, lane in config.URGENT_LANES.items()]
    else:
        lines.append(f"urgency -> priority: {urgencies} (on the priority queues only)")
    lines.append("routes (task -> queue):")
    lines += [f"  {task:<44} -> {queue}" for task, queue in config.TASK_QUEUES.items()]
    lines.append("events (event -> consumers):")
    for event, tasks in sorted(config.EVENT_SUBSCRIPTIONS.items()):
        lines.append(f"  {event:<38} -> {', '.join(tasks) or '(none yet)'}")
    lines.append(
        "worker services (process: queues; pool defaults; max tasks/memory per child "
        f"{MAX_TASKS_PER_CHILD}/{MAX_MEMORY_PER_CHILD_KB} KB unless set):"
    )
    for service in config.CONSUMERS.services:
        lines.append(
            f"  {service.process:<28} {','.join(service.queues)}; -P {service.pool} "
            f"-c {service.concurrency} --prefetch-multiplier {service.prefetch}"
            f"{'; priority' if service.priority else ''}  ({service.module}, "
            f"{service.knob_prefix}*)"
        )
    return lines
