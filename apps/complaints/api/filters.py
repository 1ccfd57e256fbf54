import django_filters

from apps.complaints.models import Complaint, ComplaintCategory, ComplaintStatus
from apps.core.api import WorkflowFilter


class ComplaintFilter(WorkflowFilter):
    status = django_filters.MultipleChoiceFilter(choices=ComplaintStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=ComplaintCategory.choices)
    rated = django_filters.BooleanFilter(field_name="rating", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Complaint
        fields = ["status", "category", "property", "unit"]
