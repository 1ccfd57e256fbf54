from django.conf import settings
from django.db import models


class PlainItem(models.Model):
    """As wide as a repair request (three foreign keys, ten fields), nothing more."""

    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE)
    unit = models.ForeignKey("properties.Unit", on_delete=models.CASCADE)
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    category = models.CharField(max_length=32)
    description = models.TextField()
    urgency = models.CharField(max_length=16, default="normal")
    preferred_time = models.DateTimeField(null=True, blank=True)
    preferred_window = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=32, default="submitted")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"plain item {self.pk}"
