"""`make run` calls this before starting anything: every port it needs must be free."""
import os

from django.core.management.base import BaseCommand, CommandError

from spooler.devmail import sandbox_config_from_settings
from spooler.sandbox.sandbox import port_is_free, ports_in_use


class Command(BaseCommand):
    requires_system_checks = []
    help = "Fail with a clear line for each port that make run needs and something else already uses."

    def handle(self, *args, **options):
        problems = [
            f"port {port} ({service}) is already in use on 127.0.0.1; set {env_var} to another port"
            for port, service, env_var in ports_in_use(sandbox_config_from_settings())
        ]
        web_port = int(os.environ.get("WEB_PORT", "8000"))
        if not port_is_free("127.0.0.1", web_port):
            problems.insert(0, f"port {web_port} (web) is already in use on 127.0.0.1; set WEB_PORT to another port")
        if problems:
            raise CommandError("\n".join(problems))
