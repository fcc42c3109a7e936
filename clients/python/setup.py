"""The build refuses to run without the generated code, rather than ship a client without it.

In the repository cryptopay_sidecar_client/gen is a symlink to sidecar/gen; a checkout made
without symlinks has a small file in its place. An sdist holds the files themselves.
"""

from pathlib import Path

from setuptools import setup

GENERATED = Path(__file__).parent / "cryptopay_sidecar_client" / "gen"

if not (GENERATED / "cryptopay" / "v1" / "cryptopay_service_pb2.py").is_file():
    raise SystemExit(
        f"{GENERATED} is not the generated code: it must be the symlink to sidecar/gen "
        "(clone with `git clone -c core.symlinks=true`)"
    )

setup()
