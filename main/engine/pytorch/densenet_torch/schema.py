"""Message validation against the JSON Schema generated from the zod schemas in shared/
(`npm run schemas` writes schemas/protocol.schema.json; a test fails when it is stale).

With the `jsonschema` package installed it validates with that. Otherwise with the checked subset
below, written here because this engine depends on torch and torchvision only: it implements exactly
the keywords the generated schema uses, refuses a schema with any other keyword when loaded (so a
change on the zod side that needs more fails loudly in the tests instead of passing silently), and
is run against the same accept/reject cases as the zod schemas (test/fixtures/protocol-cases.json).
"""
import json
import math
import os
import re
from typing import Any, Dict, List, Optional

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "schemas", "protocol.schema.json")

SUPPORTED = {
    "$schema", "$defs", "$ref", "type", "const", "enum", "properties", "required", "additionalProperties", "items",
    "prefixItems", "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
    "maxLength", "pattern", "oneOf", "anyOf", "allOf", "propertyNames", "default", "description", "title",
}
_SCHEMA_MAPS = {"properties", "$defs"}
_SCHEMA_LISTS = {"prefixItems", "oneOf", "anyOf", "allOf"}
_SCHEMA_ONE = {"additionalProperties", "items", "propertyNames"}


class SchemaError(Exception):
    """The schema itself uses something the subset does not implement."""


class Invalid(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path or '(root)'}: {message}")
        self.path = path
        self.reason = message


def check_schema(schema: Any, where: str = "#") -> None:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError(f"{where} is not a schema object.")
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise SchemaError(f"{where} uses {', '.join(sorted(unknown))}, which the subset validator does not implement.")
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            for k, sub in value.items():
                check_schema(sub, f"{where}/{key}/{k}")
        elif key in _SCHEMA_LISTS:
            for i, sub in enumerate(value):
                check_schema(sub, f"{where}/{key}/{i}")
        elif key in _SCHEMA_ONE:
            check_schema(value, f"{where}/{key}")


def _type_ok(value: Any, t: str) -> bool:
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return t == "number" or float(value).is_integer()


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


class SubsetValidator:
    def __init__(self, root: Dict[str, Any]):
        check_schema(root)
        self.root = root

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise SchemaError(f"Only local references are implemented; got {ref}.")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def validate(self, value: Any, schema: Any = None, path: str = "") -> None:
        s = self.root if schema is None else schema
        if s is True:
            return
        if s is False:
            raise Invalid(path, "is not allowed here")
        if "$ref" in s:
            self.validate(value, self._resolve(s["$ref"]), path)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(_type_ok(value, t) for t in types):
                raise Invalid(path, f"must be {' or '.join(types)}; got {_show(value)}")
        if "const" in s and value != s["const"]:
            raise Invalid(path, f"must be {_show(s['const'])}; got {_show(value)}")
        if "enum" in s and value not in s["enum"]:
            raise Invalid(path, f"must be one of {', '.join(_show(v) for v in s['enum'])}; got {_show(value)}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            for key, ok, word in (("minimum", lambda v, b: v >= b, "≥"), ("maximum", lambda v, b: v <= b, "≤"),
                                  ("exclusiveMinimum", lambda v, b: v > b, ">"), ("exclusiveMaximum", lambda v, b: v < b, "<")):
                if key in s and not ok(value, s[key]):
                    raise Invalid(path, f"must be {word} {s[key]}; got {_show(value)}")
        if isinstance(value, str):
            if "minLength" in s and len(value) < s["minLength"]:
                raise Invalid(path, f"must have at least {s['minLength']} characters; got {_show(value)}")
            if "maxLength" in s and len(value) > s["maxLength"]:
                raise Invalid(path, f"must have at most {s['maxLength']} characters")
            # Porting note: patterns are ECMA-262 regular expressions; the ones zod emits here are
            # plain character classes and anchors, which Python's re reads the same way.
            if "pattern" in s and not re.search(s["pattern"], value):
                raise Invalid(path, f"must match {s['pattern']}; got {_show(value)}")
        if isinstance(value, list):
            self._array(value, s, path)
        if isinstance(value, dict):
            self._object(value, s, path)
        for sub in s.get("allOf", []):
            self.validate(value, sub, path)
        if "anyOf" in s:
            errors = self._attempts(value, s["anyOf"], path)
            if len(errors) == len(s["anyOf"]):
                raise self._closest(errors, path)
        if "oneOf" in s:
            keyed = self._discriminated(value, s["oneOf"], path)
            if keyed is not None:
                self.validate(value, keyed, path)
                return
            errors = self._attempts(value, s["oneOf"], path)
            matched = len(s["oneOf"]) - len(errors)
            if matched == 0:
                raise self._closest(errors, path)
            if matched > 1:
                raise Invalid(path, "matches more than one alternative")

    @staticmethod
    def _discriminated(value: Any, alternatives: List[Any], path: str) -> Optional[Dict[str, Any]]:
        """zod's discriminated unions become oneOf over objects with a `type` const: pick the one
        the message names, so the error is about that message and not about the others."""
        consts = [(alt.get("properties") or {}).get("type", {}).get("const") if isinstance(alt, dict) else None for alt in alternatives]
        if not isinstance(value, dict) or any(c is None for c in consts):
            return None
        for alt, c in zip(alternatives, consts):
            if value.get("type") == c:
                return alt
        where = f"{path}.type" if path else "type"
        raise Invalid(where, f"must be one of {', '.join(_show(c) for c in consts)}; got {_show(value.get('type'))}")

    def _attempts(self, value: Any, alternatives: List[Any], path: str) -> List[Invalid]:
        errors = []
        for alt in alternatives:
            try:
                self.validate(value, alt, path)
            except Invalid as err:
                errors.append(err)
        return errors

    @staticmethod
    def _closest(errors: List[Invalid], path: str) -> Invalid:
        # The alternative that got deepest is the one the message was meant to be (a discriminated union).
        deepest = max(errors, key=lambda e: len(e.path))
        return deepest if len(deepest.path) > len(path) else Invalid(path, "matches none of the accepted forms")

    def _array(self, value: List[Any], s: Dict[str, Any], path: str) -> None:
        if "minItems" in s and len(value) < s["minItems"]:
            raise Invalid(path, f"must have at least {s['minItems']} items; got {len(value)}")
        if "maxItems" in s and len(value) > s["maxItems"]:
            raise Invalid(path, f"must have at most {s['maxItems']} items; got {len(value)}")
        prefix = s.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else s.get("items", True)
            self.validate(item, sub, f"{path}[{i}]")

    def _object(self, value: Dict[str, Any], s: Dict[str, Any], path: str) -> None:
        props = s.get("properties", {})
        for key in s.get("required", []):
            if key not in value:
                raise Invalid(f"{path}.{key}" if path else key, "is required")
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if "propertyNames" in s:
                self.validate(key, s["propertyNames"], where)
            if key in props:
                self.validate(item, props[key], where)
            elif "additionalProperties" in s:
                self.validate(item, s["additionalProperties"], where)


class ProtocolSchemas:
    """The command and event validators (jsonschema's when installed, else the subset's)."""

    def __init__(self, path: str = SCHEMA_FILE, prefer_jsonschema: bool = True):
        with open(path, encoding="utf-8") as f:
            self.document = json.load(f)
        self.engine = "subset"
        self._validators: Dict[str, Any] = {}
        jsonschema = None
        if prefer_jsonschema:
            try:
                import jsonschema  # type: ignore[import-not-found,no-redef]
            except ImportError:
                jsonschema = None
        for name, schema in self.document["schemas"].items():
            if jsonschema is not None:
                self._validators[name] = jsonschema.Draft202012Validator(schema)
                self.engine = f"jsonschema {getattr(jsonschema, '__version__', '')}".strip()
            else:
                self._validators[name] = SubsetValidator(schema)

    def names(self) -> List[str]:
        return list(self._validators)

    def error(self, name: str, value: Any) -> Optional[str]:
        """None when `value` is valid, else one sentence fragment saying where and why."""
        v = self._validators[name]
        if isinstance(v, SubsetValidator):
            try:
                v.validate(value)
                return None
            except Invalid as err:
                return str(err)
        best = None
        for err in v.iter_errors(value):
            if best is None or len(err.absolute_path) > len(best.absolute_path):
                best = err
        if best is None:
            return None
        where = ".".join(str(p) for p in best.absolute_path)
        return f"{where or '(root)'}: {best.message}"
