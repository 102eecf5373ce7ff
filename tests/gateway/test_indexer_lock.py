"""One indexer per read model: a second is refused on SQLite and PostgreSQL, and a lock ends with its
holder."""

from __future__ import annotations

import pytest

from gateway.read_model.indexer_lock import IndexerRunning, sole_indexer
from tests.gateway.conftest import DATABASES, new_engine


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_a_second_indexer_of_the_same_read_model_is_refused_until_the_first_ends(database_url: str) -> None:
    first, second = new_engine(database_url), new_engine(database_url)
    try:
        with (
            sole_indexer(first),
            pytest.raises(IndexerRunning, match="another indexer already writes this read model"),
            sole_indexer(second),
        ):
            pass
        with sole_indexer(second):  # released with the first
            pass
    finally:
        first.dispose()
        second.dispose()
