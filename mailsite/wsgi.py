import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mailsite.settings")
application = get_wsgi_application()

# A web process without the key of the stored passwords does not start (the error says why).
from mailsite.mailboxes.checks import secrets_ready  # noqa: E402 - after Django is set up

secrets_ready()
