"""A small JSON Schema validator for the subset docs/status.schema.json uses.

Debian's /usr/bin/python3 has no jsonschema package by default, and the tests must
not depend on one, so this implements exactly the keywords the schema uses (draft
2020-12 semantics): type, enum, const, properties, required, additionalProperties,
items, minimum, maximum, minLength, pattern, format (date-time), oneOf, $ref (local
"#/..." pointers), $defs, plus the annotations $schema, $id, title, description,
$comment. A keyword outside that list is an error in the SCHEMA (SchemaError), so a
constraint is never silently ignored.

    errors = validate(instance, schema)      # [] when valid, else "path: problem"
    problems = check_dir(status_dir)         # status.json, state and ready agree
    python3 tests/integration/status_schema.py FILE_OR_DIR...   # exit 0 when all valid
"""

import datetime
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "status.schema.json")

KNOWN = {"type", "enum", "const", "properties", "required", "additionalProperties", "items",
         "minimum", "maximum", "minLength", "pattern", "format", "oneOf", "$ref", "$defs",
         "$schema", "$id", "title", "description", "$comment"}

_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class SchemaError(Exception):
    pass


def load_schema(path=SCHEMA_PATH):
    with open(path) as f:
        return json.load(f)


def _resolve(root, ref):
    if not ref.startswith("#/"):
        raise SchemaError(f"only local $ref is supported: {ref}")
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"$ref {ref} does not resolve")
        node = node[part]
    return node


def _is_num(v):
    return _TYPES["number"](v)


def _check(v, s, root, path, errors):
    if s is True:
        return
    if s is False:
        errors.append(f"{path}: no value allowed here")
        return
    if not isinstance(s, dict):
        raise SchemaError(f"schema at {path} is not an object")
    unknown = set(s) - KNOWN
    if unknown:
        raise SchemaError(f"unsupported keyword(s) {sorted(unknown)} (schema for {path})")
    if "$ref" in s:
        _check(v, _resolve(root, s["$ref"]), root, path, errors)
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        for t in types:
            if t not in _TYPES:
                raise SchemaError(f"unknown type {t!r}")
        if not any(_TYPES[t](v) for t in types):
            errors.append(f"{path}: {json.dumps(v)[:80]} is not of type {'/'.join(types)}")
            return
    if "const" in s and not (v == s["const"] and type(v) is type(s["const"])):
        errors.append(f"{path}: {json.dumps(v)[:80]} is not {json.dumps(s['const'])}")
    if "enum" in s and not any(v == e and type(v) is type(e) for e in s["enum"]):
        errors.append(f"{path}: {json.dumps(v)[:80]} is not one of {s['enum']}")
    if _is_num(v):
        if "minimum" in s and v < s["minimum"]:
            errors.append(f"{path}: {v} < minimum {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            errors.append(f"{path}: {v} > maximum {s['maximum']}")
    if isinstance(v, str):
        if "minLength" in s and len(v) < s["minLength"]:
            errors.append(f"{path}: string shorter than {s['minLength']}")
        if "pattern" in s and not re.search(s["pattern"], v):
            errors.append(f"{path}: {v!r} does not match {s['pattern']}")
        if s.get("format") == "date-time":
            try:
                datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                errors.append(f"{path}: {v!r} is not a date-time")
        elif "format" in s:
            raise SchemaError(f"unsupported format {s['format']!r}")
    if isinstance(v, dict):
        for k in s.get("required", []):
            if k not in v:
                errors.append(f"{path}: required key {k!r} missing")
        props = s.get("properties", {})
        for k, item in v.items():
            if k in props:
                _check(item, props[k], root, f"{path}.{k}", errors)
            elif "additionalProperties" in s:
                ap = s["additionalProperties"]
                if ap is False:
                    errors.append(f"{path}: unexpected key {k!r}")
                else:
                    _check(item, ap, root, f"{path}.{k}", errors)
    if isinstance(v, list) and "items" in s:
        for i, item in enumerate(v):
            _check(item, s["items"], root, f"{path}[{i}]", errors)
    if "oneOf" in s:
        matching = 0
        for sub in s["oneOf"]:
            sub_errors = []
            _check(v, sub, root, path, sub_errors)
            matching += not sub_errors
        if matching != 1:
            errors.append(f"{path}: matches {matching} of the oneOf alternatives, not 1")


def validate(instance, schema=None):
    """[] when instance is valid against schema (default: docs/status.schema.json)."""
    if schema is None:
        schema = load_schema()
    errors = []
    _check(instance, schema, schema, "$", errors)
    return errors


def check_dir(d, schema=None):
    """Problems with the status files in dir d ([] when fine): status.json parses
    and matches the schema, `state` is its state word and a newline, `ready`
    exists only when all_required_ready. For suites that run hfinit with
    HFINIT_STATUS_DIR set: call it after each run (or while it runs)."""
    problems = []
    try:
        with open(os.path.join(d, "status.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return ["%s/status.json: %s" % (d, e)]
    problems += ["%s/status.json: %s" % (d, e) for e in validate(doc, schema)]
    try:
        with open(os.path.join(d, "state")) as f:
            state = f.read()
        if state != "%s\n" % doc.get("state"):
            problems.append("%s/state is %r, status.json says %r" % (d, state, doc.get("state")))
    except OSError as e:
        problems.append("%s/state: %s" % (d, e))
    if os.path.exists(os.path.join(d, "ready")) and not doc.get("all_required_ready"):
        problems.append("%s/ready exists but all_required_ready is false" % d)
    return problems


def main(argv):
    schema = load_schema()
    bad = 0
    for name in argv:
        if os.path.isdir(name):
            for p in check_dir(name, schema):
                print(p)
                bad += 1
            continue
        with open(name) as f:
            errors = validate(json.load(f), schema)
        for e in errors:
            print(f"{name}: {e}")
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
