import django_filters

from apps.core.api import WorkflowFilter
from apps.repairs.models import RepairCategory, RepairRequest, RepairStatus, RepairUrgency


class RepairRequestFilter(WorkflowFilter):
    status = django_filters.MultipleChoiceFilter(choices=RepairStatus.choices)
    urgency = django_filters.MultipleChoiceFilter(choices=RepairUrgency.choices)
    category = django_filters.MultipleChoiceFilter(choices=RepairCategory.choices)

    class Meta:
        model = RepairRequest
        fields = ["status", "urgency", "category", "property", "unit"]
