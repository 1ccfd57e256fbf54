import django_filters

from apps.repairs.models import RepairCategory, RepairRequest, RepairStatus, RepairUrgency


class RepairRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RepairStatus.choices)
    urgency = django_filters.MultipleChoiceFilter(choices=RepairUrgency.choices)
    category = django_filters.MultipleChoiceFilter(choices=RepairCategory.choices)
    # Plain ids: an unknown or invisible property filters to nothing, revealing nothing.
    property = django_filters.NumberFilter(field_name="property_id")
    unit = django_filters.NumberFilter(field_name="unit_id")
    created_from = django_filters.DateFilter(field_name="created_at__date", lookup_expr="gte")
    created_to = django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte")

    class Meta:
        model = RepairRequest
        fields = ["status", "urgency", "category", "property", "unit"]
