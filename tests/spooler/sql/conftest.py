"""The SQL modules are tested on spool rows: the outbound tests' sender and fresh spool state."""
from tests.spooler.outbound.conftest import _fresh_spool_state, sender  # noqa: F401 - fixtures
