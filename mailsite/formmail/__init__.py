"""Forms that send mail: form_mail_send (services.py) spools a text and an HTML body rendered from templates; the
public contact form uses it, with a honeypot and rate limits kept in Redis (ratelimit.py)."""
