"""The five rightsholder groups of the programme are fixed: they exist in every database."""

from django.db import migrations

GROUPS = [
    ("pwd", "People with disabilities", "ជនមានពិការភាព"),
    ("lgbtiq", "LGBTIQ+ people", "ក្រុម LGBTIQ+"),
    ("women", "Women facing exploitation, abuse and/or violence", "ស្ត្រីដែលរងការកេងប្រវ័ញ្ច ការរំលោភបំពាន និង/ឬ អំពើហិង្សា"),
    ("age", "Age-discriminated groups (youth and elderly people)", "ក្រុមដែលរងការរើសអើងដោយសារអាយុ (យុវជន និងមនុស្សចាស់)"),
    ("indigenous", "Indigenous peoples and ethnic minorities", "ជនជាតិដើមភាគតិច និងជនជាតិភាគតិច"),
]


def create_groups(apps, schema_editor):
    RightsholderGroup = apps.get_model("ccop", "RightsholderGroup")
    for order, (code, name, name_local) in enumerate(GROUPS, start=1):
        RightsholderGroup.objects.update_or_create(
            code=code, defaults={"name": name, "name_local": name_local, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("ccop", "0001_initial")]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
