"""SoftHSM2 tokens for tests: made before this process first loads the PKCS#11 module, which lists the
tokens only as they were when it was loaded (and a loaded module cannot be reloaded while sessions are
open). Each test takes a fresh, empty token of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from registry_node.devnet.softhsm import SoftHsm
from registry_node.protocol.keys.pkcs11 import TokenAccess, TokenUri, close_sessions

PIN = "token test pin 1234"
TOKENS_PER_PROCESS = 12


@dataclass(frozen=True)
class Token:
    uri: TokenUri  # object "signing-key"
    access: TokenAccess
    hsm: SoftHsm

    @property
    def label(self) -> str:
        return self.uri.token


TokenFactory = Callable[[], Token]


@pytest.fixture(scope="session")
def softhsm_folder(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    """The one SoftHSM2 configuration of this test process (the module reads it once per process)."""
    hsm = SoftHsm(tmp_path_factory.mktemp("softhsm")).create()
    hsm.activate()
    return hsm


@pytest.fixture(scope="session")
def softhsm(softhsm_folder: SoftHsm) -> Iterator[list[Token]]:
    hsm = softhsm_folder
    tokens = []
    for n in range(TOKENS_PER_PROCESS):
        uri = hsm.init_token(f"test-token-{n}", PIN)
        tokens.append(Token(uri, TokenAccess(hsm.module, PIN), hsm))
    yield tokens
    close_sessions()


@pytest.fixture
def new_token(softhsm: list[Token]) -> TokenFactory:
    """`new_token()` -> an empty token of this test's own, already listed by the module."""

    def take() -> Token:
        if not softhsm:
            raise RuntimeError(f"more than {TOKENS_PER_PROCESS} tokens asked for in one test process")
        return softhsm.pop(0)

    return take
