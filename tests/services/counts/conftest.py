import pytest

from picker.store.engine import Database
from tests.services.counts.helpers import TEST_BINS, clear


@pytest.fixture(autouse=True)
def _bins_emptied(floor: Database) -> None:
    """The demo floor with the bins these tests use emptied (no order reserved anything)."""
    clear(floor, *TEST_BINS)
