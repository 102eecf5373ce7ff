"""SoftHSM2 tokens in a folder: the PKCS#11 "hardware" of the HSM demo, the key tests and the experiments.

SoftHSM2 (Debian's `softhsm2`) keeps its tokens in the directory its configuration file names, and
finds the file through `SOFTHSM2_CONF`, read once when a process loads the module. So everything that
uses these tokens (this process and the office nodes it starts) runs with `SoftHsm.env()`, and
`activate()` sets it in this process before its first PKCS#11 call.

A token here is as real as SoftHSM makes it: keys generated inside, marked sensitive and not extractable,
signing through the PKCS#11 API. Only the protection of the token's files is a folder's.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys.pkcs11 import TokenUri

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
UTIL = "softhsm2-util"
CONF_ENV = "SOFTHSM2_CONF"


class SoftHsm:
    """A SoftHSM2 configuration and token directory under `folder`."""

    def __init__(self, folder: Path, module: str = MODULE) -> None:
        self.folder = folder.resolve()
        self.module = module
        self.conf = self.folder / "softhsm2.conf"
        self.tokens = self.folder / "tokens"

    def create(self) -> SoftHsm:
        """Writes the configuration (once); checks that SoftHSM2 is installed."""
        if not Path(self.module).is_file() or shutil.which(UTIL) is None:
            raise ConfigError("softhsm2", f"SoftHSM2 is not installed ({self.module}, {UTIL}): `make setup`")
        self.tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.conf.exists():
            self.conf.write_text(
                f"directories.tokendir = {self.tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
                "utf-8",
            )
        return self

    def env(self) -> dict[str, str]:
        return {CONF_ENV: str(self.conf)}

    def activate(self) -> None:
        """Points this process's PKCS#11 module at these tokens (before it is first loaded)."""
        os.environ[CONF_ENV] = str(self.conf)

    def init_token(self, label: str, pin: str) -> TokenUri:
        """A new, empty token labelled `label` whose user PIN is `pin` (its SO PIN is random and dropped:
        nobody can reset the user PIN, as on a real HSM handed over to its office). softhsm2-util takes the
        PINs on its command line, which other users of the machine can see: a lab tool, not an office's."""
        result = subprocess.run(
            [UTIL, "--init-token", "--free", "--label", label, "--pin", pin,
             "--so-pin", secrets.token_urlsafe(16)],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )  # fmt: skip
        if result.returncode != 0:
            raise ConfigError("softhsm2", f"cannot initialise token {label!r}: {result.stderr.strip()}")
        return TokenUri(label, "signing-key")
