"""The two configuration resources the Infinity test double serves, their fields, the node's
validation and the store that holds them.

Sources (read, not copied): pexip/go-infinity-sdk `config/gms_access_token_model.go` and
`config/gateway_routing_rule_model.go` (field names, list shape); pexip/terraform-provider-pexip
`internal/provider/resource_infinity_gateway_routing_rule.go` (defaults, choices, 250-character
limits, priority 1 to 200) and `resource_infinity_gms_access_token.go` (name 1 to 250 characters;
"the token is sensitive and not returned by the API"); a node's answer quoted in
department-of-veterans-affairs/caseflow#13892 for the 400 shape,
`{"<resource>": {"<field>": ["<message>"]}}`. Messages are Django's model-validation wording,
which Infinity (Django + Tastypie) answers with.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Any

API_PREFIX = "/api/admin/configuration/v1/"
GMS_ACCESS_TOKEN = "gms_access_token"
GATEWAY_ROUTING_RULE = "gateway_routing_rule"


@dataclass(frozen=True)
class Field:
    kind: str  # "str" | "bool" | "int" | "choice" | "uri"
    default: Any = None
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[str, ...] = ()
    target: str = ""  # for "uri": the resource it points at
    write_only: bool = False  # accepted on write, never returned on read


def _text(default: str = "", *, required: bool = False) -> Field:
    return Field("str", default=default, required=required, max_length=250)


def _flag(default: bool) -> Field:
    return Field("bool", default=default)


def _link(target: str) -> Field:
    return Field("uri", nullable=True, target=target)


FIELDS: dict[str, dict[str, Field]] = {
    GMS_ACCESS_TOKEN: {
        "name": _text(required=True),
        # Required here: the Terraform schema marks it optional, but a token object without a
        # value is useless to the portal; the double refuses it so a client bug shows.
        "token": Field("str", required=True, max_length=100, write_only=True),
    },
    GATEWAY_ROUTING_RULE: {
        "name": _text(required=True),
        "description": _text(),
        "priority": Field("int", required=True, min_value=1, max_value=200),
        "enable": _flag(True),
        "match_string": _text(required=True),
        "match_string_full": _flag(False),
        "replace_string": _text(),
        "tag": _text(),
        "called_device_type": Field(
            "choice",
            default="external",
            choices=(
                "external",
                "registration",
                "mssip_conference_id",
                "mssip_server",
                "gms_conference",
                "teams_conference",
                "teams_user",
                "telehealth_profile",
            ),
        ),
        "outgoing_protocol": Field(
            "choice", default="sip", choices=("h323", "mssip", "sip", "rtmp", "gms", "teams")
        ),
        "call_type": Field(
            "choice", default="video", choices=("audio", "video", "video-only", "auto")
        ),
        "crypto_mode": Field("choice", default="", choices=("", "besteffort", "on", "off")),
        "treat_as_trusted": _flag(False),
        "denoise_audio": _flag(True),
        "match_incoming_calls": _flag(True),
        "match_outgoing_calls": _flag(False),
        "match_incoming_sip": _flag(True),
        "match_incoming_h323": _flag(True),
        "match_incoming_mssip": _flag(True),
        "match_incoming_webrtc": _flag(True),
        "match_incoming_teams": _flag(False),
        "match_incoming_only_if_registered": _flag(False),
        "live_captions_enabled": Field(
            "choice", default="default", choices=("default", "yes", "no")
        ),
        "external_participant_avatar_lookup": Field(
            "choice", default="default", choices=("default", "yes", "no")
        ),
        "max_callrate_in": Field("int", nullable=True, min_value=128, max_value=8192),
        "max_callrate_out": Field("int", nullable=True, min_value=128, max_value=8192),
        "max_pixels_per_second": Field("choice", nullable=True, choices=("sd", "hd", "fullhd")),
        "gms_access_token": _link(GMS_ACCESS_TOKEN),
        "match_source_location": _link("system_location"),
        "outgoing_location": _link("system_location"),
        "sip_proxy": _link("sip_proxy"),
        "h323_gatekeeper": _link("h323_gatekeeper"),
        "mssip_proxy": _link("mssip_proxy"),
        "teams_proxy": _link("teams_proxy"),
        "stun_server": _link("stun_server"),
        "turn_server": _link("turn_server"),
        "ivr_theme": _link("ivr_theme"),
        "telehealth_profile": _link("telehealth_profile"),
    },
}
# Fields the node sets itself; a client may send them back (what it read), they are ignored.
READ_ONLY = {
    GMS_ACCESS_TOKEN: ("id", "resource_uri"),
    GATEWAY_ROUTING_RULE: ("id", "resource_uri", "creation_time"),
}
# How the node names each resource in "... with this Name already exists." (Django's wording).
VERBOSE_NAMES = {
    GMS_ACCESS_TOKEN: "Google Meet access token",
    GATEWAY_ROUTING_RULE: "Call Routing Rule",
}
# Filterable fields and lookups (Tastypie style, `?name__startswith=`). Only `name` and `tag` are
# served: the portal needs no others, and which others the real node allows is not confirmed.
FILTERS = {GMS_ACCESS_TOKEN: ("id", "name"), GATEWAY_ROUTING_RULE: ("id", "name", "tag")}
LOOKUPS = ("exact", "iexact", "startswith", "istartswith", "contains", "icontains")
ORDERABLE = ("id", "name", "priority", "tag")

Errors = dict[str, list[str]]


def uri(resource: str, object_id: int) -> str:
    return f"{API_PREFIX}{resource}/{object_id}/"


def public(resource: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the node shows it on read: write-only fields (the token value) left out."""
    hidden = {name for name, field in FIELDS[resource].items() if field.write_only}
    return {key: value for key, value in obj.items() if key not in hidden}


class ValidationFailed(Exception):
    def __init__(self, resource: str, errors: Errors) -> None:
        super().__init__(errors)
        self.body = {resource: errors}


class ReferencedObject(Exception):
    pass


class Store:
    """Objects by resource and id. Ids are never reused, not even after `clear()`, so a URI a
    test kept from before cannot silently name a different object."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in FIELDS}
        self.next_id = dict.fromkeys(FIELDS, 1)

    def clear(self) -> None:
        with self.lock:
            for objects in self.objects.values():
                objects.clear()

    def find(self, resource: str, object_id: int) -> dict[str, Any] | None:
        return self.objects.get(resource, {}).get(object_id)

    def resolve(self, reference: str | int, resource: str) -> dict[str, Any] | None:
        """An object by id or by resource URI."""
        if isinstance(reference, str):
            match = re.fullmatch(re.escape(API_PREFIX + resource) + r"/(\d+)/", reference)
            if match is None:
                return None
            reference = int(match.group(1))
        return self.find(resource, reference)

    def create(self, resource: str, body: Any) -> dict[str, Any]:
        with self.lock:
            values = self.validate(resource, body, current=None)
            object_id = self.next_id[resource]
            self.next_id[resource] += 1
            obj = {"id": object_id, **values, "resource_uri": uri(resource, object_id)}
            if resource == GATEWAY_ROUTING_RULE:
                obj["creation_time"] = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat()
            self.objects[resource][object_id] = obj
            return obj

    def update(self, resource: str, object_id: int, body: Any, *, partial: bool) -> None:
        with self.lock:
            obj = self.objects[resource][object_id]
            values = self.validate(
                resource, body, current=obj if partial else None, own_id=object_id
            )
            obj.update(values)

    def delete(self, resource: str, object_id: int, *, force: bool = False) -> None:
        with self.lock:
            target = uri(resource, object_id)
            users = [
                rule
                for rule in self.objects[GATEWAY_ROUTING_RULE].values()
                if resource == GMS_ACCESS_TOKEN and rule["gms_access_token"] == target
            ]
            if users and not force:
                names = ", ".join(sorted(rule["name"] for rule in users))
                name = self.objects[resource][object_id]["name"]
                raise ReferencedObject(
                    f"Cannot delete {VERBOSE_NAMES[resource]} '{name}'"
                    f" because it is used by the following Call Routing Rules: {names}."
                )
            for rule in users:
                rule["gms_access_token"] = None
            del self.objects[resource][object_id]

    # Validation --------------------------------------------------------------------------------

    def validate(
        self,
        resource: str,
        body: Any,
        *,
        current: dict[str, Any] | None,
        own_id: int | None = None,
    ) -> dict[str, Any]:
        """The values to store, or ValidationFailed with the node's field errors. `current` is
        the object a PATCH starts from; without it (POST, PUT) missing fields take defaults."""
        fields = FIELDS[resource]
        if not isinstance(body, dict):
            raise ValidationFailed(resource, {"__all__": ["Request body must be a JSON object."]})
        errors: Errors = {}
        for key in body:
            if key not in fields and key not in READ_ONLY[resource]:
                errors[key] = ["Unknown field."]
        values: dict[str, Any] = {}
        for name, field in fields.items():
            if name in body:
                problem = self._problem(field, body[name])
                if problem:
                    errors[name] = [problem]
                else:
                    values[name] = body[name]
            elif current is not None:
                values[name] = current[name]
            elif field.required:
                errors[name] = ["This field is required."]
            else:
                values[name] = field.default
        name = values.get("name")
        if "name" not in errors and isinstance(name, str):
            for other_id, other in self.objects[resource].items():
                if other_id != own_id and other["name"] == name:
                    errors["name"] = [f"{VERBOSE_NAMES[resource]} with this Name already exists."]
        if errors:
            raise ValidationFailed(resource, errors)
        return values

    def _problem(self, field: Field, value: Any) -> str:
        if value is None:
            return "" if field.nullable else "This field cannot be null."
        if field.kind == "bool":
            return (
                "" if isinstance(value, bool) else f"'{value}' value must be either True or False."
            )
        if field.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"'{value}' value must be an integer."
            if field.min_value is not None and value < field.min_value:
                return f"Ensure this value is greater than or equal to {field.min_value}."
            if field.max_value is not None and value > field.max_value:
                return f"Ensure this value is less than or equal to {field.max_value}."
            return ""
        if field.kind == "choice":
            return "" if value in field.choices else f"Value {value!r} is not a valid choice."
        if field.kind == "uri":
            # Tastypie's answer to a related URI that names nothing.
            found = isinstance(value, str) and self.resolve(value, field.target) is not None
            return (
                "" if found else f"Could not find the provided object via resource URI '{value}'."
            )
        if not isinstance(value, str):
            return f"'{value}' value must be a string."
        if field.required and not value:
            return "This field cannot be blank."
        if field.max_length is not None and len(value) > field.max_length:
            return (
                f"Ensure this value has at most {field.max_length} characters"
                f" (it has {len(value)})."
            )
        return ""
