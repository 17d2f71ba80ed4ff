#!/usr/bin/env python3
"""Checks the generated JSON Schema with a standard draft-07 validator (python3-jsonschema).

usage: check_schema.py SCHEMA.json VALID.yaml INVALID.yaml
VALID must pass; every node of INVALID (each entry of each section) must be rejected.
Exit 0 on success, 1 on a failed check, 77 when jsonschema or yaml is not installed.
"""
import json
import sys

try:
    import jsonschema
    import yaml
except ImportError:
    sys.exit(77)

schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)

valid = yaml.safe_load(open(sys.argv[2]))
errors = list(validator.iter_errors(valid))
for e in errors:
    print(f"valid file rejected at {list(e.path)}: {e.message}")

invalid = yaml.safe_load(open(sys.argv[3]))
flagged = {tuple(e.path)[:2] for e in validator.iter_errors(invalid)}
missed = []
for section, nodes in invalid.items():
    for node in nodes or {}:
        if (section, node) not in flagged:
            missed.append(f"{section}.{node}")
for m in missed:
    print(f"invalid node accepted: {m}")
sys.exit(1 if errors or missed else 0)
