from django.db import models


class ProbeEffect(models.Model):
    """One row per effect of a probe task; tests count them."""

    key = models.CharField(max_length=100, db_index=True)
    message_id = models.CharField(max_length=64)
    correlation_id = models.CharField(max_length=100, blank=True)
    priority = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.key} ({self.message_id})"


class ProbeSwitch(models.Model):
    """A flag a test flips to make a probe task fail or succeed."""

    name = models.CharField(max_length=100, unique=True)
    on = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.name}={'on' if self.on else 'off'}"
