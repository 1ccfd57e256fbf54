"""factory_boy factories, one per model, for every app's tests.

Users: UserFactory(role=..., property=...) assigns staff to a property, and
UserFactory(role="resident", unit=...) moves a resident in (a residency that started a month
ago). Workflow objects (repairs, complaints, visitors) start with their first history row, as
the services create them; `status=` puts them further along, as a test's starting point.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.accounts.models import ApiToken, Role, User
from apps.assets.models import Asset
from apps.complaints.models import Complaint, ComplaintStatus
from apps.front_desk.models import Parcel, ParcelStatus
from apps.messaging.models import DeliveryAttempt, MessageFailure, OutboxMessage, ProcessedMessage
from apps.notifications.models import Notification, NotificationPreference, NotificationStatusChange
from apps.properties.models import Property, Residency, StaffAssignment, Unit
from apps.registration.models import Invitation
from apps.repairs.models import RepairRequest, RepairStatus
from apps.reporting.models import DailyPropertyStat
from apps.visitors.models import Visitor, VisitorStatus

PASSWORD = "a-long-unusual-passphrase-42"
ROLES = [r.value for r in Role]  # resident, maintenance, security, customer_service, ...
STAFF_ROLES = [Role.MAINTENANCE, Role.SECURITY, Role.CUSTOMER_SERVICE, Role.MANAGER]


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Property

    code = factory.Sequence(lambda n: f"prop{n}")
    name = factory.LazyAttribute(lambda o: f"Property {o.code}")
    address = factory.Faker("street_address")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    property = factory.SubFactory(PropertyFactory)
    code = factory.Sequence(lambda n: f"U{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user of `role` (a resident by default). Admins get the admin role only, as in the
    API; pass is_superuser=True for a Django superuser."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    role = Role.RESIDENT
    username = factory.LazyAttributeSequence(lambda o, n: f"{o.role}{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def unit(user, create, unit, **kwargs):
        if unit is not None:
            ResidencyFactory(resident=user, unit=unit)

    @factory.post_generation
    def property(user, create, prop, **kwargs):
        if prop is not None and user.role not in (Role.RESIDENT, Role.ADMIN):
            StaffAssignmentFactory(staff=user, property=prop, role=user.role)


class ResidencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Residency

    resident = factory.SubFactory(UserFactory)
    unit = factory.SubFactory(UnitFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))


class StaffAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffAssignment

    staff = factory.SubFactory(UserFactory, role=Role.MAINTENANCE)
    property = factory.SubFactory(PropertyFactory)
    role = factory.SelfAttribute("staff.role")


def _resident_of(unit):
    """The unit's resident, or a new one moved in."""
    residency = unit.residencies.select_related("resident").first()
    return residency.resident if residency else UserFactory(unit=unit)


class WorkflowFactory(factory.django.DjangoModelFactory):
    """An object of a resident's unit with its first history row, as a service starts it;
    `site=` (the tests' Site) files it as that site's resident for their unit."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True

    class Params:
        site = None

    unit = factory.LazyAttribute(lambda o: o.site.unit if o.site else UnitFactory())
    property = factory.SelfAttribute("unit.property")
    resident = factory.LazyAttribute(lambda o: o.site.resident if o.site else _resident_of(o.unit))

    @factory.post_generation
    def history(obj, create, extracted, **kwargs):
        if create:
            obj.history.create(
                from_status="",
                to_status=obj.status,
                changed_by=obj.resident,
                changed_at=obj.created_at,
            )


class RepairRequestFactory(WorkflowFactory):
    class Meta:
        model = RepairRequest

    category = "plumbing"
    description = factory.Faker("sentence")
    status = RepairStatus.SUBMITTED


class ComplaintFactory(WorkflowFactory):
    class Meta:
        model = Complaint

    category = "noise"
    subject = factory.Faker("sentence", nb_words=4)
    description = factory.Faker("sentence")
    status = ComplaintStatus.OPEN


class ParcelFactory(WorkflowFactory):
    """A parcel waiting at the desk for the unit's resident."""

    class Meta:
        model = Parcel

    carrier = "ups"
    tracking_number = factory.Sequence(lambda n: f"1Z{n:08d}")
    pickup_code = "424242"
    status = ParcelStatus.WAITING


class VisitorFactory(factory.django.DjangoModelFactory):
    """A visitor a resident expects within the hour."""

    class Meta:
        model = Visitor
        skip_postgeneration_save = True

    class Params:
        site = None  # the tests' Site: its resident expects the visitor

    unit = factory.LazyAttribute(lambda o: o.site.unit if o.site else UnitFactory())
    property = factory.SelfAttribute("unit.property")
    host = factory.LazyAttribute(lambda o: o.site.resident if o.site else _resident_of(o.unit))
    name = factory.Faker("name")
    expected_arrival = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    status = VisitorStatus.EXPECTED

    @factory.post_generation
    def history(visitor, create, extracted, **kwargs):
        if create:
            visitor.record_status("", by=visitor.host, at=visitor.created_at)


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Asset

    class Params:
        site = None

    property = factory.LazyAttribute(lambda o: o.site.property if o.site else PropertyFactory())
    name = "Boiler"
    category = "boiler"
    condition = "good"


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row valid for a day (its key is not known: for tests of the rows only)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    digest = factory.Sequence(lambda n: f"digest{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation to a unit, expiring in a day."""

    class Meta:
        model = Invitation

    unit = factory.SubFactory(UnitFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    nonce = factory.Sequence(lambda n: f"{n:032}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class NotificationFactory(factory.django.DjangoModelFactory):
    """A pending in-app notification to a resident."""

    class Meta:
        model = Notification

    channel = "in_app"
    user = factory.SubFactory(UserFactory)
    category = "general"
    template = "generic"
    subject = "Hello"
    body_text = "Hello"


class NotificationStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationStatusChange

    notification = factory.SubFactory(NotificationFactory)
    status = factory.SelfAttribute("notification.status")


class NotificationPreferenceFactory(factory.django.DjangoModelFactory):
    """A user's opt-out of one (category, channel); enabled=True to opt in."""

    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(UserFactory)
    category = "announcement"
    channel = "email"
    enabled = False


class DailyPropertyStatFactory(factory.django.DjangoModelFactory):
    """A counter of one repair opened today at a property (a new one unless property_id=)."""

    class Meta:
        model = DailyPropertyStat

    property_id = factory.LazyFunction(lambda: PropertyFactory().pk)
    day = factory.LazyFunction(timezone.localdate)
    metric = "repairs_opened"
    count = 1


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """An unpublished outbox row for a probe consumer (tests/probe), with no payload."""

    class Meta:
        model = OutboxMessage

    event = "probe.happened"
    task_name = "probe.record"
    queue = "reporting"
    payload = factory.LazyFunction(list)
    correlation_id = "c"


class ProcessedMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessedMessage

    message_id = factory.Sequence(lambda n: f"message-{n}")
    consumer = "c"


class DeliveryAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryAttempt

    message_id = factory.Sequence(lambda n: f"message-{n}")
    consumer = "c"


class MessageFailureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageFailure

    message_id = factory.Sequence(lambda n: f"message-{n}")
    consumer = "c"
    queue = "q"
    reason = "r"
