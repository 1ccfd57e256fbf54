"""The admin's permission matrix, driven from the admin registry: every registered model ×
every staff role (and admin) × own property (Oak Court, where the demo staff work) and
other property (Elm House) — changelist rows, list filter choices, the choices of every
foreign-key and many-to-many field in the add and change forms (inlines included), forged
POSTs choosing another property's object, autocomplete, actions and workflow steps, history
and delete pages.

How a model reaches a property is read from the model itself (a foreign key or many-to-many
to Property, or one to a model that has one), not from the admin under test; users belong
to the properties they live or work at. A registered model that reaches no property must be
declared in ADMIN_ONLY with the reason, or test_every_registered_model_is_covered fails.
Everyone logs in through the admin's login form; nothing is granted by hand.
"""

from functools import cache

import pytest
from django import forms
from django.contrib import admin
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from apps.accounts.backends import role_permissions
from apps.accounts.models import Role, User
from apps.announcements.services import announcement_create
from apps.messaging.models import OutboxMessage
from apps.properties.models import Property, Unit
from apps.properties.services import move_out_request
from apps.registration.services import invitation_create
from tests.conftest import module_transaction
from tests.factories import UserFactory
from tests.fixtures.demo import demo_install, login

pytestmark = pytest.mark.django_db

REGISTRY = admin.site._registry
ROLES = ("maintenance", "security", "customer_service", "manager", "admin")
STAFF = ROLES[:-1]

# Registered models no staff role may open, each with why it is not tied to a property.
ADMIN_ONLY = {
    "auth.Group": "roles give permissions (apps/accounts/backends.py); groups are unused",
    "django_celery_beat.PeriodicTask": "the installation's schedules",
    "django_celery_beat.ClockedSchedule": "the installation's schedules",
    "django_celery_beat.CrontabSchedule": "the installation's schedules",
    "django_celery_beat.SolarSchedule": "the installation's schedules",
    "django_celery_beat.IntervalSchedule": "the installation's schedules",
    "messaging.OutboxMessage": "messages of every property in one outbox",
    "messaging.MessageFailure": "failed messages of any consumer",
    "messaging.DeadLetterReplay": "the audit of dead-letter replays and purges",
    "notifications.Notification": "deliveries to any address; staff see theirs in the API",
    "notifications.NotificationPreference": "a user's own settings, edited in the API",
    "reporting.DailyPropertyStat": "property_id is a plain number: reports are read on the "
    "dashboard and in the API, scoped there",
    "reporting.AssetSnapshot": "as DailyPropertyStat",
}
# A user belongs to the properties they live in (any residency, a claim too) or work at.
USER_PATHS = ("residencies__unit__property", "assignments__property")
FUTURE = "2099-01-02 09:30"


@cache
def property_paths(model):
    """The lookups from `model` to Property, or () when it reaches none."""
    if model is Property:
        return ("pk",)
    if model is User:
        return USER_PATHS
    relations = [f for f in model._meta.get_fields() if f.concrete and f.is_relation]
    direct = tuple(f.name for f in relations if f.related_model is Property)
    if direct:
        return direct
    return tuple(
        f"{f.name}__{path}"
        for f in relations
        if f.many_to_one and f.related_model not in (User, model)
        for path in property_paths(f.related_model)
    )


def at(model, prop):
    return Q.create([(f"{path}__in", [prop.pk]) for path in property_paths(model)], connector=Q.OR)


def other_ids(model, world):
    """Objects of `model` of the other property only (nothing of the own one)."""
    if not property_paths(model):
        return set()
    objects = model.objects.filter(at(model, world.elm)).exclude(at(model, world.oak))
    return set(objects.values_list("pk", flat=True))


def own_ids(model, world):
    return set(model.objects.filter(at(model, world.oak)).values_list("pk", flat=True))


def outside_ids(model, world):
    """Objects of `model` that staff of the own property must never see or be offered:
    the other property's, and those of no property (e.g. an account living nowhere)."""
    if not property_paths(model):
        return set()
    return set(model.objects.exclude(at(model, world.oak)).values_list("pk", flat=True))


SCOPED = sorted(m._meta.label for m in REGISTRY if m._meta.label not in ADMIN_ONLY)


def model_of(label):
    return next(m for m in REGISTRY if m._meta.label == label)


def url(model, suffix=""):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def may(role, model, action):
    """Whether `role` holds the model permission (roles' declarations, not the admin's)."""
    permission = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
    return role == "admin" or permission in role_permissions(role)


class World:
    """The demo installation plus what it lacks at Elm House: a staff member, an invitation
    and an announcement (and an invitation at Oak Court, and a user of no property); and a
    move-out request at each property."""

    def __init__(self):
        demo_install()
        self.oak, self.elm = Property.objects.get(code="oak"), Property.objects.get(code="elm")
        admin_user = User.objects.get(username="admin")
        UserFactory(role=Role.SECURITY, property=self.elm, username="elmguard")
        UserFactory(username="stranger")  # an account that lives and works nowhere
        for code in ("OAK-202", "ELM-2"):
            unit = Unit.objects.get(code=code)
            invitation_create(by=admin_user, unit=unit, email=f"{code}@example.com")
        announcement_create(by=admin_user, properties=[self.elm], title="Elm news", body="Hi")
        for resident in User.objects.filter(username__in=("alice", "carol")):
            move_out_request(resident=resident, end_date=timezone.localdate())
        self.clients = {}
        for role in ROLES:
            client = Client()
            assert login(client, role).status_code == 302
            self.clients[role] = client


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_transaction(django_db_blocker):
        yield World()


def state(obj=None):
    """What a refused request must leave as it was: the row counts of every model staff
    may open, the outbox, and `obj`'s row."""
    counts = {label: model_of(label).objects.count() for label in SCOPED}
    counts["outbox"] = OutboxMessage.objects.count()
    if obj is not None:
        counts["row"] = list(type(obj).objects.filter(pk=obj.pk).values())
    return counts


def absent(response):
    """The answer for an object the user may not see: as for one that does not exist."""
    return response.status_code in (403, 404) or (
        response.status_code == 302 and response.url == "/admin/"
    )


def test_every_registered_model_is_covered():
    """Each registered model reaches a property (and the matrix checks it) or is declared
    admin-only with its reason; a declaration for a model no longer registered goes too."""
    labels = {m._meta.label: m for m in REGISTRY}
    assert set(ADMIN_ONLY) <= set(labels), set(ADMIN_ONLY) - set(labels)
    unscoped = [label for label in SCOPED if not property_paths(labels[label])]
    assert not unscoped, f"reach no property and are not declared admin-only: {unscoped}"


# --- admin-only models -------------------------------------------------------------------
@pytest.mark.parametrize("label", sorted(ADMIN_ONLY))
def test_admin_only_models_are_refused_to_every_staff_role(world, label):
    model = model_of(label)
    for role in STAFF:
        client = world.clients[role]
        assert client.get(url(model)).status_code == 403, role
        assert client.get(url(model, "add/")).status_code == 403, role
        obj = model.objects.first()
        if obj is not None:
            assert client.get(url(model, f"{obj.pk}/change/")).status_code == 403, role
    assert world.clients["admin"].get(url(model)).status_code == 200


# --- the matrix ----------------------------------------------------------------------------
def own_and_other(model, world):
    own, other = own_ids(model, world), other_ids(model, world)
    assert own and other, f"the world lacks a {model._meta.label} at both properties"
    return model.objects.get(pk=min(own)), model.objects.get(pk=min(other))


def relation_filters(changelist):
    for spec in changelist.filter_specs:
        field = getattr(spec, "field", None)
        if field is not None and field.is_relation:
            yield spec, field.related_model


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", SCOPED)
def test_changelist_and_its_filters(world, label, role):
    """Rows of the other property are never listed (nor found by a search), nor offered in
    a list filter."""
    model = model_of(label)
    own, other = own_and_other(model, world)
    response = world.clients[role].get(url(model), {"all": ""})
    if not may(role, model, "view") and not may(role, model, "change"):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    changelist = response.context["cl"]
    listed = set(changelist.root_queryset.values_list("pk", flat=True))
    assert own.pk in listed
    if role == "admin":
        assert other.pk in listed  # the world has the other row: the check below can fail
        return
    assert not listed & outside_ids(model, world), "another property's rows listed"
    searched = world.clients[role].get(url(model), {"all": "", "q": "elm"}).context["cl"]
    found = set(searched.queryset.values_list("pk", flat=True))
    assert not found & outside_ids(model, world), "a search finds another property's rows"
    for spec, related in relation_filters(changelist):
        offered = {str(pk) for pk, _ in spec.lookup_choices}
        leaked = offered & {str(pk) for pk in outside_ids(related, world)}
        assert not leaked, f"filter {spec.field_path} offers the other property's {leaked}"


def model_choice_fields(response):
    """(form, field name, field) of every model choice the page lets the user make: its
    form's, its inlines' rows' (when they may be changed) and a new row's (when one may be
    added)."""
    found = []
    forms_on_page = [(response.context["adminform"].form, None)]
    for inline in response.context.get("inline_admin_formsets", []):
        # An inline row's own id is not a choice: it is looked up among the parent's rows.
        row_id = inline.formset.model._meta.pk.name
        editable = [
            *(inline.formset.forms if inline.has_change_permission else []),
            *([inline.formset.empty_form] if inline.has_add_permission else []),
        ]
        forms_on_page += [(form, row_id) for form in editable]
    for form, row_id in forms_on_page:
        for name, field in form.fields.items():
            if name == row_id or not isinstance(field, forms.ModelChoiceField):
                continue
            if property_paths(field.queryset.model):
                found.append((form, name, field))
    return found


def assert_choices_are_own(response, world):
    """Every choice offers its own property's objects, and nothing else."""
    for form, name, field in model_choice_fields(response):
        related = field.queryset.model
        offered = set(field.queryset.values_list("pk", flat=True))
        leaked = offered & outside_ids(related, world)
        assert not leaked, f"{form.prefix or 'form'}.{name} offers another property's {leaked}"
        assert offered, f"{form.prefix or 'form'}.{name} offers nothing to choose"


def filled(field, name, data):
    """A plausible value for a required field left empty, so that the forged choice is the
    form's only fault."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        data[name] = [str(pk) for pk in field.queryset.values_list("pk", flat=True)[:1]]
    elif isinstance(field, forms.ModelChoiceField):
        first = field.queryset.first()
        data[name] = str(first.pk) if first else ""
    elif isinstance(field, forms.SplitDateTimeField):
        data[f"{name}_0"], data[f"{name}_1"] = FUTURE.split()
    elif isinstance(field, forms.DateTimeField):
        data[name] = FUTURE
    elif isinstance(field, forms.DateField):
        data[name] = str(timezone.localdate())
    elif isinstance(field, forms.EmailField):
        data[name] = "forged@example.com"
    elif isinstance(field, forms.ChoiceField):
        data[name] = next(str(v) for v, _ in field.choices if v not in ("", None))
    elif isinstance(field, forms.DecimalField | forms.IntegerField):
        data[name] = "1"
    else:
        data[name] = "Forged"


def page_data(response):
    """The page's forms as the browser would post them unchanged (empty required fields
    filled in)."""
    data = {}
    forms_on_page = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        management = inline.formset.management_form
        data.update({bf.html_name: bf.value() for bf in management})
        forms_on_page += inline.formset.forms
    for form in forms_on_page:
        for bf in form:
            value = bf.value()
            if isinstance(bf.field.widget, forms.MultiWidget):
                parts = bf.field.widget.decompress(value) if value else []
                data.update({f"{bf.html_name}_{i}": str(p) for i, p in enumerate(parts) if p})
            elif value is True:
                data[bf.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bf.html_name] = [str(v) for v in value]
            elif value not in (None, False, ""):
                data[bf.html_name] = str(value)
            if bf.field.required and not data.get(bf.html_name) and form is forms_on_page[0]:
                filled(bf.field, bf.html_name, data)
    return {k: v for k, v in data.items() if v is not None}


def forged_posts(response, world):
    """(data, form prefix or None, field) for each model choice on the page set to another
    property's object; for an inline, as one more row."""
    main = response.context["adminform"].form
    base = page_data(response)
    for form, name, field in model_choice_fields(response):
        foreign = other_ids(field.queryset.model, world)
        if not foreign:
            continue
        value = str(min(foreign))
        if form is main:
            data = dict(base)
            data[name] = [value] if isinstance(field, forms.ModelMultipleChoiceField) else value
            yield data, None, name
        elif form.prefix.endswith("__prefix__"):  # an inline's empty form: add a row
            prefix = form.prefix.removesuffix("-__prefix__")
            rows = int(base[f"{prefix}-TOTAL_FORMS"])
            data = {**base, f"{prefix}-TOTAL_FORMS": str(rows + 1)}
            for other_name, other_field in form.fields.items():
                if other_field.required and not isinstance(other_field.widget, forms.HiddenInput):
                    filled(other_field, f"{prefix}-{rows}-{other_name}", data)
            data[f"{prefix}-{rows}-{name}"] = value
            yield data, f"{prefix}-{rows}", name


def field_errors(response, prefix, name):
    if response.status_code != 200 or "adminform" not in response.context:
        return None
    if prefix is None:
        return response.context["adminform"].form.errors.get(name)
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if form.prefix == prefix:
                return form.errors.get(name)
    return None


def assert_forgeries_refused(client, page, response, world, obj=None):
    for data, prefix, name in forged_posts(response, world):
        before = state(obj)
        answer = client.post(page, data)
        assert state(obj) == before, f"forged {prefix or 'form'}.{name} changed something"
        if answer.status_code != 403:
            assert field_errors(answer, prefix, name), f"forged {name} not refused in the form"


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("label", SCOPED)
def test_add_form_offers_and_accepts_own_property_objects_only(world, label, role):
    model = model_of(label)
    client, page = world.clients[role], url(model, "add/")
    response = client.get(page)
    if response.status_code == 403:  # not the role's, or added elsewhere (repairs: API)
        return
    assert response.status_code == 200
    assert_forgeries_refused(client, page, response, world)
    assert_choices_are_own(response, world)


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("label", SCOPED)
def test_change_form_of_own_object_offers_and_accepts_own_property_objects_only(world, label, role):
    model = model_of(label)
    own, other = own_and_other(model, world)
    client, page = world.clients[role], url(model, f"{own.pk}/change/")
    response = client.get(page)
    if not may(role, model, "view") and not may(role, model, "change"):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert_forgeries_refused(client, page, response, world, obj=own)
    assert_choices_are_own(response, world)


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("label", SCOPED)
def test_other_property_object_pages_are_absent(world, label, role):
    """Its change, history and delete pages answer as for an object that does not exist,
    and a POST to them changes nothing."""
    model = model_of(label)
    _, other = own_and_other(model, world)
    client = world.clients[role]
    missing = model.objects.order_by("-pk").values_list("pk", flat=True).first() + 10_000
    for page in ("change/", "history/", "delete/"):
        response = client.get(url(model, f"{other.pk}/{page}"))
        assert absent(response), (page, response.status_code)
        ghost = client.get(url(model, f"{missing}/{page}"))
        assert ghost.status_code == response.status_code, (page, "differs from a missing id")
        if page != "history/":
            before = state(other)
            client.post(url(model, f"{other.pk}/{page}"), {"post": "yes", "name": "Forged"})
            assert state(other) == before, page


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("label", SCOPED)
def test_actions_and_steps_on_other_property_objects_change_nothing(world, label, role):
    model = model_of(label)
    _, other = own_and_other(model, world)
    client, model_admin = world.clients[role], REGISTRY[model]
    listing = client.get(url(model))
    if listing.status_code != 200:
        return
    action_form = listing.context.get("action_form")
    choices = action_form.fields["action"].choices if action_form else []
    actions = [name for name, _ in choices if name]
    # Confirmed at once: a step's form filled in, a deletion confirmed ("post").
    form_data = {
        "workflow_apply": "1",
        "post": "yes",
        "note": "x",
        "body": "x",
        "when": FUTURE,
        "send_at": FUTURE,
    }
    for action in actions:
        before = state(other)
        client.post(url(model), {"action": action, "_selected_action": [other.pk], **form_data})
        assert state(other) == before, f"action {action} changed another property's object"
    for step in getattr(model_admin, "workflow_steps", ()):
        before = state(other)
        response = client.post(url(model, f"{other.pk}/step/{step.name}/"), form_data)
        assert response.status_code in (403, 404) and state(other) == before, step.name


def autocomplete_sources():
    """Every (source model, relation field) on a registered model whose target has an
    admin with search fields: what /admin/autocomplete/ may be asked about."""
    for model in REGISTRY:
        for field in model._meta.get_fields():
            related = field.related_model if field.concrete and field.is_relation else None
            if related in REGISTRY and REGISTRY[related].search_fields:
                yield model, field


@pytest.mark.parametrize("role", STAFF)
def test_autocomplete_offers_nothing_of_the_other_property(world, role):
    """A lookup answers only a user who may fill the form of the field it is for (add or
    change its model), and offers nothing outside their property."""
    client = world.clients[role]
    checked = 0
    for model, field in autocomplete_sources():
        query = {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": field.name,
            "term": "",
        }
        response = client.get("/admin/autocomplete/", query)
        if not may(role, model, "add") and not may(role, model, "change"):
            assert response.status_code == 403, (model, field.name, response.status_code)
            continue
        if response.status_code != 200:
            assert response.status_code in (403, 404), (model, field.name)
            continue
        checked += 1
        results = {int(r["id"]) for r in response.json()["results"]}
        assert not results & outside_ids(field.related_model, world), (model, field.name)
    if role == "manager":
        assert checked  # residents and staff are looked up this way


def test_admin_sees_both_properties_everywhere(world):
    """The admin role is not scoped: the other property's objects are there, so the
    checks above have something to miss."""
    client = world.clients["admin"]
    for label in SCOPED:
        model = model_of(label)
        _, other = own_and_other(model, world)
        assert client.get(url(model, f"{other.pk}/change/")).status_code == 200, label
        assert client.get(url(model, f"{other.pk}/history/")).status_code == 200, label
