"""Named defaults for every timeout and size limit of the sessions library.

Callers (the Django settings, through the services) may pass other values per session or per parse;
this module is the one place the defaults live.
"""

# Seconds. The socket timeout of every session: TCP connect, greeting, TLS handshake, and each later
# read or write. A server that goes silent at any point fails within this (TransientError).
TIMEOUT = 30.0

# Seconds. SMTP: the part of TIMEOUT's work before the first command (TCP connect, TLS handshake, greeting,
# EHLO, STARTTLS, AUTH), and a NOOP that checks an idle connection. Short: a relay that does not even greet
# is known dead fast, while a slow answer to DATA (a relay scanning the message) still gets TIMEOUT.
CONNECT_TIMEOUT = 10.0

# A message above this is neither sent nor downloaded (POP3/IMAP check the announced size first).
MAX_MESSAGE_BYTES = 25 * 1024 * 1024

# Email.parse bounds: work stays linear in the input size times MAX_DEPTH.
MAX_DEPTH = 20                  # nesting of multipart containers
MAX_PARTS = 1000                # MIME parts (leaves and containers) in one message
MAX_LINE_LENGTH = 100_000       # one header field, unfolded; longer ones are cut (long body lines are only flagged)
MAX_HEADER_BYTES = 1024 * 1024  # the header block of one part; the rest is ignored
MAX_HEADERS = 1000              # header fields kept per part

# SMTP: how many times send() reconnects when the server dropped an idle connection before MAIL FROM
# (safe: nothing of the message was sent yet).
SMTP_RECONNECTS = 1
