"""The property tests' settings everywhere (loaded by pytest as a plugin: pyproject's addopts).

Hypothesis's "too slow" health check fails a test when generating its inputs takes long, which on a loaded
2-core machine says nothing about the code: it made `make test` fail at random. Each test still bounds its
own examples, and every other health check stays on.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("ipreg", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ipreg")
