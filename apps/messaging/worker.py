"""Worker-side pieces that Celery loads by name from celeryconfig.py."""

import logging

from celery.signals import worker_init
from celery.worker.consumer import Consumer
from kombu.utils.encoding import safe_repr

logger = logging.getLogger(__name__)


class DeadLetteringConsumer(Consumer):
    """Rejects a message it cannot decode, so it dead-letters instead of vanishing.

    Celery's own consumer logs and *acknowledges* such a message (shared/DESIGN.md).
    """

    def on_decode_error(self, message, exc):
        logger.critical(
            "undecodable message dead-lettered: %r content_type=%r headers=%s body=%r",
            exc,
            message.content_type,
            safe_repr(message.headers),
            message.body[:1024],
        )
        message.reject(requeue=False)


@worker_init.connect
def _declare_topology(**_):
    # The dead-letter exchange and queues must exist before the first rejection, or the
    # broker drops the rejected message.
    from apps.messaging.broker import topology_declare

    topology_declare()
