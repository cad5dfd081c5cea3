#!/usr/bin/env python3
"""Checks schema/vswitch.md against schema/vswitch.ovsschema: every table
has a "## Table `X`" section and every column a "- `col` —" entry in its
table's section, and the documented version table lists the schema's
version.  Exits 1 with the missing items."""
import json
import re
import sys

schema_path, doc_path = sys.argv[1], sys.argv[2]
schema = json.load(open(schema_path))
doc = open(doc_path).read()

sections = {}
for m in re.finditer(r"^## Table `([^`]+)`\n(.*?)(?=^## |\Z)", doc,
                     re.S | re.M):
    sections[m.group(1)] = m.group(2)

missing = []
for table, tdef in schema["tables"].items():
    body = sections.get(table)
    if body is None:
        missing.append(f"table {table}")
        continue
    documented = set(re.findall(r"^- `([^`]+)` —", body, re.M))
    for col in tdef["columns"]:
        if col not in documented:
            missing.append(f"column {table}.{col}")
    for col in documented - set(tdef["columns"]):
        missing.append(f"documented column {table}.{col} not in schema")

if f"| {schema['version']} |" not in doc:
    missing.append(f"version {schema['version']} in the versioning table")

if missing:
    print("schema documentation incomplete:\n  " + "\n  ".join(missing))
    sys.exit(1)
print(f"schema documentation complete: {len(schema['tables'])} tables")
