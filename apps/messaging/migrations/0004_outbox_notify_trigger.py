from django.db import migrations

# The channel is apps.messaging.models.OUTBOX_NOTIFY_CHANNEL, frozen here as migrations are.
# FOR EACH STATEMENT: one notification per insert however many rows (PostgreSQL also
# folds identical notifications of one transaction into one), delivered at commit only.
NOTIFY_TRIGGER = """
CREATE FUNCTION messaging_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER messaging_outbox_notify AFTER INSERT ON messaging_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION messaging_outbox_notify();
"""

DROP_NOTIFY_TRIGGER = """
DROP TRIGGER messaging_outbox_notify ON messaging_outboxmessage;
DROP FUNCTION messaging_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_outbox_parked"),
    ]

    operations = [migrations.RunSQL(NOTIFY_TRIGGER, DROP_NOTIFY_TRIGGER)]
