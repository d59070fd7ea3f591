"""Writing mail: what the compose page fills in (replies.py, pure), drafts (drafts.py), the send (send.py)."""
