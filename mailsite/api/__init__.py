"""The HTTP API for the spool (/api/v1/): other programs send mail, follow it and cancel it, with per-user tokens."""
