from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('visitors', '0003_visitor_history_from_events'),
    ]

    operations = [
        migrations.DeleteModel(
            name='VisitorEvent',
        ),
    ]
