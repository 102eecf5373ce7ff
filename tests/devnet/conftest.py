"""Fixtures of the local-chain tooling's tests."""

from tests.support.softhsm import softhsm_folder  # noqa: F401 - the HSM consortium's tokens
