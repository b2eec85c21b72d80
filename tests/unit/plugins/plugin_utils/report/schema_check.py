# -*- coding: utf-8 -*-
"""A tiny JSON Schema validator: the keywords docs/report-schema.json uses (type, const, enum, required, properties,
additionalProperties, items, minimum, maximum, pattern, local $ref). No dependency."""

from __future__ import annotations

import re

TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "const", "enum", "required", "properties",
         "additionalProperties", "items", "minimum", "maximum", "pattern", "$ref"}


def _is(value, name):
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def errors(value, schema, root=None, path="$"):
    """Every violation as 'path: message'; an empty list means valid."""
    root = root if root is not None else schema
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError("%s: keywords this validator does not know: %s" % (path, sorted(unknown)))
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return errors(value, target, root, path)
    found = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, name) for name in names):
            return ["%s: %r is not of type %s" % (path, value, "/".join(names))]
    if "const" in schema and value != schema["const"]:
        found.append("%s: %r is not %r" % (path, value, schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        found.append("%s: %r is not one of %r" % (path, value, schema["enum"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append("%s: %r < %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            found.append("%s: %r > %r" % (path, value, schema["maximum"]))
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        found.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    if isinstance(value, dict):
        found.extend("%s: %s is required" % (path, key) for key in schema.get("required", []) if key not in value)
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found.extend(errors(item, properties[key], root, "%s.%s" % (path, key)))
            elif schema.get("additionalProperties") is False:
                found.append("%s: %s is not allowed" % (path, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                found.extend(errors(item, schema["additionalProperties"], root, "%s.%s" % (path, key)))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found.extend(errors(item, schema["items"], root, "%s[%d]" % (path, index)))
    return found
