"""The standard chart of accounts every product maps its roles to."""

from django.db import migrations

from servicing.chart import ensure_chart


def create(apps, schema_editor):
    ensure_chart(apps.get_model("servicing", "GLAccount"))


class Migration(migrations.Migration):
    dependencies = [("servicing", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
