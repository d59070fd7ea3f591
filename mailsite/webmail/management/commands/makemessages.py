"""Django's makemessages with this project's defaults, so that `make messages` and the completeness test
(tests/project/test_translations.py) gather the same strings."""
from django.core.management.commands import makemessages

# Not the UI: tests, benchmarks, collected static files, run-time data.
NOT_UI = ["tests/*", "bench/*", "staticfiles/*", "var/*", "node_modules/*"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), *NOT_UI]
        options["add_location"] = options.get("add_location") or "file"  # no line numbers: smaller diffs
        options["no_obsolete"] = True
        return super().handle(*args, **options)
