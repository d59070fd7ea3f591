"""Outbound mail: the spool. One module per job, in the order a message meets them:

  enqueue.py           a message becomes a row, its bytes stored (large part bodies once per hash); woken on commit
  claims.py            due rows taken by one worker, with a lease
  delivery.py          claimed rows over SMTP, grouped by relay on a reused connection; receipts; bulk outcomes
  outcomes.py          what an attempt makes of a row (pure: settle, defer, fail, expire)
  sweeper.py           what dead workers left: recorded from receipts or re-queued; owed bounces; blob clean-up
  receipts.py, bounce.py  "the relay said 250" kept per message; the notice to a sender whose mail failed
  relays.py, smtp_connections.py, limits.py, relay_health.py  where a row goes and how hard it may be pushed
  queue_ops.py, monitor.py  what the admin does to the queue, and what it sees

Wake-ups go through spooler.services.broker; the hand-written SQL is in spooler.services.sql.
"""
