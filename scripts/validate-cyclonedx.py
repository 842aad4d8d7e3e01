#!/usr/bin/env python3
"""Validate CycloneDX JSON files against the official 1.5 JSON schema.

    python3 scripts/validate-cyclonedx.py FILE...

Uses the CycloneDX project's own Python library and its bundled schema
(pip install 'cyclonedx-python-lib[json-validation]'); exits non-zero and
names the file and the first violation when one is invalid.
"""
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def main(paths):
    validator = JsonStrictValidator(SchemaVersion.V1_5)
    bad = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            error = validator.validate_str(f.read())
        if error is None:
            print(f"{path}: valid CycloneDX 1.5")
        else:
            bad += 1
            print(f"{path}: INVALID: {str(error).splitlines()[0]}", file=sys.stderr)
    return 1 if bad or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
