"""The Redis transport for Celery, without redis-py's own connect retries.

redis-py retries a refused connection with backoff (about 3 s). A page that publishes a wake-up after
commit must fail fast instead; kombu and the Celery worker still reconnect at their own level.
"""
import redis
from kombu.transport import redis as kombu_redis
from redis.backoff import NoBackoff
from redis.retry import Retry


class FailFastConnection(redis.Connection):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        super().__init__(*args, **kwargs)


class Channel(kombu_redis.Channel):
    connection_class = FailFastConnection


class Transport(kombu_redis.Transport):
    Channel = Channel
