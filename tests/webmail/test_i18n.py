"""Spanish and English: the browser's language, the switch remembered per user, each user's time zone, localised
dates and sizes, and the texts made outside templates (form errors, flashes, poll errors, search errors)."""
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from mailsite.mailboxes.models import Message, UserPreference
from spooler.services.inbound.store import message_store
from tests.fixtures.users import PASSWORD

pytestmark = pytest.mark.django_db

ES = {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
NOON_UTC = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Madrid (CET, winter); a past year in any run


@pytest.fixture(autouse=True)
def _english_after():
    """A test client's request leaves its language active in this thread (Django activates one per request and
    never resets it): later tests of plain functions expect the default."""
    yield
    translation.deactivate()


def store(user, *, subject="Quarterly figures", date="Wed, 15 Jan 2025 12:00:00 +0000", uid="1", body=b"body"):
    raw = (f"From: Ana <ana@example.test>\r\nTo: {user.mail_accounts.get().address}\r\nSubject: {subject}\r\n"
           f"Date: {date}\r\nMessage-ID: <{uid}@example.test>\r\n\r\n").encode() + body + b"\r\n"
    return message_store(account=user.mail_accounts.get(), uid=uid, raw=raw)


def log_in(client, name="alice"):
    response = client.post(reverse("login"), {"username": name, "password": PASSWORD})
    assert response.status_code == 302
    return response


def page(client, url, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


# --- the browser's language -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "spanish", "english"), [
    ("webmail:inbox", "Recibidos", "Inbox"),
    ("webmail:compose", "Redactar", "Compose"),
    ("webmail:outbox", "Bandeja de salida", "Outbox"),
    ("webmail:drafts", "No hay borradores.", "No drafts."),
    ("webmail:contacts", "Aún no hay contactos.", "No contacts yet."),
    ("settings", "Zona horaria", "Time zone"),
])
def test_accept_language_chooses_the_page_language(alice_client, name, spanish, english):
    es = page(alice_client, reverse(name), **ES)
    assert '<html lang="es">' in es and spanish in es and "Cerrar sesión" in es
    en = page(alice_client, reverse(name), **EN)
    assert '<html lang="en">' in en and english in en and "Log out" in en and spanish not in en


def test_without_accept_language_the_site_is_in_english(alice_client):
    html = page(alice_client, reverse("webmail:inbox"))
    assert '<html lang="en">' in html and "Inbox" in html and "Recibidos" not in html and "Log out" in html
    assert 'name="language" value="es"' in html and 'name="language" value="en"' not in html  # en is current


def test_the_message_and_search_pages_in_spanish(alice_client, alice):
    message = store(alice)
    html = page(alice_client, reverse("webmail:message", args=[message.id]), **ES)
    for words in ("Responder", "Responder a todos", "Reenviar", "Archivar", "Eliminar", "Mostrar original"):
        assert f">{words}<" in html
    search = page(alice_client, reverse("webmail:search") + "?q=quarterly", **ES)
    assert "Más relevantes" in search and "Quarterly figures" in search and "Marcar como leído" in search


def test_the_login_page_follows_the_browser(client):
    assert '<html lang="es">' in page(client, reverse("login"), **ES)
    assert '<html lang="en">' in page(client, reverse("login"), **EN)


# --- the switch, remembered per user ----------------------------------------------------------------------------

def test_the_switch_saves_the_language_and_it_wins_over_the_browser(client, alice):
    log_in(client)
    response = client.post(reverse("set_language"), {"language": "es", "next": "/outbox/"}, **EN)
    assert response.status_code == 302 and response["Location"] == "/outbox/"
    assert UserPreference.objects.get(user=alice).language == "es"
    assert "Bandeja de salida" in page(client, reverse("webmail:outbox"), **EN)

    client.post(reverse("logout"))
    fresh = Client()  # another browser: no language cookie, an English Accept-Language
    log_in(fresh)
    assert '<html lang="es">' in page(fresh, reverse("webmail:inbox"), **EN)
    # The saved language is put in the cookie too, so the login page after a logout stays in it.
    fresh.post(reverse("logout"))
    assert '<html lang="es">' in page(fresh, reverse("login"), **EN)


def test_switching_back_to_english_is_saved_too(alice_client, alice):
    UserPreference.objects.create(user=alice, language="es")
    assert "Recibidos" in page(alice_client, reverse("webmail:inbox"), **EN)
    alice_client.post(reverse("set_language"), {"language": "en", "next": "/"}, **ES)
    assert UserPreference.objects.get(user=alice).language == "en"
    assert '<html lang="en">' in page(alice_client, reverse("webmail:inbox"), **ES)


def test_an_anonymous_switch_sets_the_cookie_only(client):
    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("login")})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert '<html lang="es">' in page(client, reverse("login"), **EN)
    assert not UserPreference.objects.exists()


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(alice_client, alice):
    response = alice_client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    assert not UserPreference.objects.filter(user=alice).exclude(language="").exists()


def test_the_switch_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("set_language"), {"language": "es", "next": "/"}).status_code == 403
    assert not UserPreference.objects.filter(user=alice, language="es").exists()


def test_the_switch_is_on_every_page_and_names_the_current_page(alice_client, alice):
    message = store(alice)
    url = reverse("webmail:message", args=[message.id])
    html = page(alice_client, url, **ES)
    assert f'action="{reverse("set_language")}"' in html and f'name="next" value="{url}"' in html
    assert 'name="language" value="en"' in html and 'name="language" value="es"' not in html  # es is current
    assert 'name="csrfmiddlewaretoken"' in html.split('class="language-switch"')[1].split("</form>")[0]


# --- each user's time zone --------------------------------------------------------------------------------------

def test_the_first_login_saves_the_browsers_zone_and_later_ones_keep_it(client, alice):
    client.cookies["tz"] = "Europe/Madrid"
    log_in(client)
    assert UserPreference.objects.get(user=alice).time_zone == "Europe/Madrid"
    client.post(reverse("logout"))
    client.cookies["tz"] = "Asia/Tokyo"
    log_in(client)
    assert UserPreference.objects.get(user=alice).time_zone == "Europe/Madrid"


def test_a_bad_zone_cookie_is_not_saved(client, alice):
    client.cookies["tz"] = "Mars/Olympus"
    log_in(client)
    assert not UserPreference.objects.filter(user=alice).exclude(time_zone="").exists()


def test_the_saved_zone_is_used_in_the_list_and_on_the_message_page(alice_client, alice):
    UserPreference.objects.create(user=alice, time_zone="Europe/Madrid")
    alice_client.cookies["tz"] = "Asia/Tokyo"  # the saved zone wins over the browser's
    message = store(alice)
    assert message.date == NOON_UTC
    assert "Wed 15 Jan 2025, 13:00 CET" in page(alice_client, reverse("webmail:inbox"))
    assert "Wed 15 Jan 2025, 13:00 CET" in page(alice_client, reverse("webmail:message", args=[message.id]))


def test_without_a_saved_zone_the_cookie_is_used(alice_client, alice):
    message = store(alice)
    alice_client.cookies["tz"] = "Asia/Tokyo"
    assert "Wed 15 Jan 2025, 21:00 JST" in page(alice_client, reverse("webmail:message", args=[message.id]))


def test_the_settings_page_changes_language_and_zone(alice_client, alice):
    message = store(alice)
    response = alice_client.post(reverse("settings"), {"language": "es", "time_zone": "America/New_York"})
    assert response.status_code == 302 and response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    saved = UserPreference.objects.get(user=alice)
    assert (saved.language, saved.time_zone) == ("es", "America/New_York")
    html = page(alice_client, reverse("settings"), **EN)
    assert "Configuración guardada." in html and "America/New_York" in html
    assert "07:00 EST" in page(alice_client, reverse("webmail:message", args=[message.id]))


def test_the_settings_page_refuses_an_unknown_zone_or_language(alice_client, alice):
    response = alice_client.post(reverse("settings"), {"language": "xx", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "language" in errors and "time_zone" in errors
    assert not UserPreference.objects.filter(user=alice).exists()


def test_the_settings_page_back_to_the_browsers_language(alice_client, alice):
    UserPreference.objects.create(user=alice, language="es", time_zone="Europe/Madrid")
    response = alice_client.post(reverse("settings"), {"language": "", "time_zone": "Europe/Madrid"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # the switch's cookie is deleted
    assert UserPreference.objects.get(user=alice).language == ""
    assert '<html lang="en">' in page(alice_client, reverse("webmail:inbox"), **EN)
    assert '<html lang="es">' in page(alice_client, reverse("webmail:inbox"), **ES)


# --- localised dates and sizes ----------------------------------------------------------------------------------

def test_spanish_dates_and_sizes(alice_client, alice):
    UserPreference.objects.create(user=alice, language="es", time_zone="Europe/Madrid")
    message = store(alice, body=b"x" * (1536 * 1024))
    assert message.size > 1536 * 1024
    inbox = page(alice_client, reverse("webmail:inbox"))
    assert "mié 15 de enero de 2025, 13:00 CET" in inbox  # the whole date on hover
    assert ">15 ene 2025<" in inbox  # the list's short date (another year)
    assert "1,5\xa0MB" in inbox  # a decimal comma
    html = page(alice_client, reverse("webmail:message", args=[message.id]))
    assert "mié 15 de enero de 2025, 13:00 CET" in html


def test_english_dates_and_sizes(alice_client, alice):
    store(alice, body=b"x" * (1536 * 1024))
    inbox = page(alice_client, reverse("webmail:inbox"), **EN)
    assert "Wed 15 Jan 2025, 12:00 UTC" in inbox and ">15 Jan 2025<" in inbox and "1.5\xa0MB" in inbox


# --- texts made outside templates -------------------------------------------------------------------------------

def test_form_errors_are_in_the_page_language(alice_client, alice):
    response = alice_client.post(reverse("webmail:compose"), {
        "account": alice.mail_accounts.get().id, "to": "@example.test", "subject": "Hola", "text": "x"}, **ES)
    assert response.status_code == 200
    html = response.content.decode()
    assert "«@example.test» no es una dirección de correo válida: no tiene nada antes de la @." in html
    assert "Enviar" in html and ">Para<" in html and ">Asunto<" in html


def test_flash_messages_are_in_the_users_language_with_plurals(alice_client, alice):
    ids = [store(alice, uid=str(n), subject=f"m{n}").id for n in (1, 2)]
    response = alice_client.post(reverse("webmail:act"), {"action": "archive", "ids": ids, "next": "/"},
                                 follow=True, **ES)
    assert "2 mensajes archivados." in response.content.decode()
    response = alice_client.post(reverse("webmail:act"), {"action": "inbox", "ids": ids[:1], "next": "/"},
                                 follow=True, **ES)
    assert "1 mensaje movido a Recibidos." in response.content.decode()


def test_poll_errors_are_stored_in_english_and_shown_in_spanish(alice_client, alice):
    account = alice.mail_accounts.get()
    account.last_poll_error = "Wrong user name or password (pop.example.test)."
    account.save()
    assert "Nombre de usuario o contraseña incorrectos (pop.example.test). Se volverá a intentar en breve." in page(
        alice_client, reverse("webmail:inbox"), **ES)
    assert "Wrong user name or password (pop.example.test). Trying again shortly." in page(
        alice_client, reverse("webmail:inbox"), **EN)


def test_search_errors_are_in_the_page_language(alice_client):
    html = page(alice_client, reverse("webmail:search") + "?q=" + "a " * 40, **ES)
    assert "La búsqueda tiene demasiadas palabras: como máximo 30." in html


def test_outbox_states_are_in_the_page_language(alice_client, alice):
    alice_client.post(reverse("webmail:compose"), {
        "account": alice.mail_accounts.get().id, "to": "bob@example.test", "subject": "Hola", "text": "x"}, **ES)
    html = page(alice_client, reverse("webmail:outbox"), **ES)
    assert "En cola" in html and 'data-text-moved="movido a Enviados"' in html
    assert Message.objects.count() == 0


def test_the_account_status_counts_in_spanish(alice_client, alice):
    account = alice.mail_accounts.get()
    account.last_polled_at, account.last_poll_fetched = timezone.now(), 1
    account.save()
    assert "Comprobado hace un momento, 1 nuevo." in page(alice_client, reverse("webmail:inbox"), **ES)
    account.last_poll_fetched = 1234
    account.save()
    assert "Comprobado hace un momento, 1\xa0234 nuevos." in page(alice_client, reverse("webmail:inbox"), **ES)
    assert "Checked just now, 1,234 new." in page(alice_client, reverse("webmail:inbox"), **EN)
