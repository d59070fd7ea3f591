"""What /metrics shows (mailsite/metrics.py): the spool's counts read from the database at scrape time, the polls'
counters kept in Redis by the workers, both shared by every process on every host."""
