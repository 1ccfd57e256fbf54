import django_filters

from apps.complaints.models import Complaint, ComplaintCategory, ComplaintStatus


class ComplaintFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ComplaintStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=ComplaintCategory.choices)
    # Plain ids: an unknown or invisible property filters to nothing, revealing nothing.
    property = django_filters.NumberFilter(field_name="property_id")
    unit = django_filters.NumberFilter(field_name="unit_id")
    rated = django_filters.BooleanFilter(field_name="rating", lookup_expr="isnull", exclude=True)
    created_from = django_filters.DateFilter(field_name="created_at__date", lookup_expr="gte")
    created_to = django_filters.DateFilter(field_name="created_at__date", lookup_expr="lte")

    class Meta:
        model = Complaint
        fields = ["status", "category", "property", "unit"]
