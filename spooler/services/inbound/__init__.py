"""Inbound mail: POP3 and IMAP accounts polled into the mailboxes app's rows, with no loss and no duplicate.

  schedule.py     which accounts beat polls now (and their queue marks)
  lease.py        one poll per account at a time: a lease kept alive by a heartbeat
  poll.py         one poll of one account: its folders in turn, within its caps; the outcome recorded
  folder_sync.py  one session on one folder: list, delete what is due, fetch what is new, store in batches
  sources.py      the reading session for an account and folder
  store.py        fetched bytes → Message and Attachment rows (parse never raises)
  errors.py       poll failures in plain words

Poll requests go through spooler.services.broker; the multi-row INSERT is in spooler.services.sql.messages.
"""
