"""The rulebook (domain.md) as tables: each row is one sentence of it."""

import itertools
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from onboarding.domain import calling_domains, domain_names

# Meeting settings: option x meeting ID length x prefix x SfB ------------------------------------

LENGTH, PREFIX, SFB = "meeting_id_length", "prefix", "sfb_additional_gateway"
LEGACY, SHORT_IDS = "legacy-shared-domain", "short-meeting-ids"


def rejects(*fields):
    return ("rejects", frozenset(fields))


def accepts(*warning_codes):
    return ("accepts", frozenset(warning_codes))


OPTIONS = ("shared", "onpexip", "own")
LENGTHS = ("short", "long")
PREFIXES = ("", "1", "1234", "12345", "12a", "8000", "8999", "7999", " 42 ")

# Written out by hand from the table in domain.md; not computed.
MEETING_SETTINGS = [
    # shared: short IDs only, prefix blank (the portal allocates it), SfB gateway off
    ("shared", "short", "", False, accepts(LEGACY)),
    ("shared", "short", "1", False, rejects(PREFIX)),
    ("shared", "short", "1234", False, rejects(PREFIX)),
    ("shared", "short", "12345", False, rejects(PREFIX)),
    ("shared", "short", "12a", False, rejects(PREFIX)),
    ("shared", "short", "8000", False, rejects(PREFIX)),
    ("shared", "short", "8999", False, rejects(PREFIX)),
    ("shared", "short", "7999", False, rejects(PREFIX)),
    ("shared", "short", " 42 ", False, rejects(PREFIX)),
    ("shared", "short", "", True, rejects(SFB)),
    ("shared", "short", "1", True, rejects(PREFIX, SFB)),
    ("shared", "short", "1234", True, rejects(PREFIX, SFB)),
    ("shared", "short", "12345", True, rejects(PREFIX, SFB)),
    ("shared", "short", "12a", True, rejects(PREFIX, SFB)),
    ("shared", "short", "8000", True, rejects(PREFIX, SFB)),
    ("shared", "short", "8999", True, rejects(PREFIX, SFB)),
    ("shared", "short", "7999", True, rejects(PREFIX, SFB)),
    ("shared", "short", " 42 ", True, rejects(PREFIX, SFB)),
    ("shared", "long", "", False, rejects(LENGTH)),
    ("shared", "long", "1", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "1234", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "12345", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "12a", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "8000", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "8999", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "7999", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", " 42 ", False, rejects(LENGTH, PREFIX)),
    ("shared", "long", "", True, rejects(LENGTH, SFB)),
    ("shared", "long", "1", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", "1234", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", "12345", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", "12a", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", "8000", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", "8999", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", "7999", True, rejects(LENGTH, PREFIX, SFB)),
    ("shared", "long", " 42 ", True, rejects(LENGTH, PREFIX, SFB)),
    # onpexip.com subdomain: short allowed (warned), prefix 1-4 digits for short IDs only
    ("onpexip", "short", "", False, accepts(SHORT_IDS)),
    ("onpexip", "short", "1", False, accepts(SHORT_IDS)),
    ("onpexip", "short", "1234", False, accepts(SHORT_IDS)),
    ("onpexip", "short", "12345", False, rejects(PREFIX)),
    ("onpexip", "short", "12a", False, rejects(PREFIX)),
    ("onpexip", "short", "8000", False, accepts(SHORT_IDS)),
    ("onpexip", "short", "8999", False, accepts(SHORT_IDS)),
    ("onpexip", "short", "7999", False, accepts(SHORT_IDS)),
    ("onpexip", "short", " 42 ", False, accepts(SHORT_IDS)),
    ("onpexip", "short", "", True, accepts(SHORT_IDS)),
    ("onpexip", "short", "1", True, accepts(SHORT_IDS)),
    ("onpexip", "short", "1234", True, accepts(SHORT_IDS)),
    ("onpexip", "short", "12345", True, rejects(PREFIX)),
    ("onpexip", "short", "12a", True, rejects(PREFIX)),
    ("onpexip", "short", "8000", True, accepts(SHORT_IDS)),
    ("onpexip", "short", "8999", True, accepts(SHORT_IDS)),
    ("onpexip", "short", "7999", True, accepts(SHORT_IDS)),
    ("onpexip", "short", " 42 ", True, accepts(SHORT_IDS)),
    ("onpexip", "long", "", False, accepts()),
    ("onpexip", "long", "1", False, rejects(PREFIX)),
    ("onpexip", "long", "1234", False, rejects(PREFIX)),
    ("onpexip", "long", "12345", False, rejects(PREFIX)),
    ("onpexip", "long", "12a", False, rejects(PREFIX)),
    ("onpexip", "long", "8000", False, rejects(PREFIX)),
    ("onpexip", "long", "8999", False, rejects(PREFIX)),
    ("onpexip", "long", "7999", False, rejects(PREFIX)),
    ("onpexip", "long", " 42 ", False, rejects(PREFIX)),
    ("onpexip", "long", "", True, accepts()),
    ("onpexip", "long", "1", True, rejects(PREFIX)),
    ("onpexip", "long", "1234", True, rejects(PREFIX)),
    ("onpexip", "long", "12345", True, rejects(PREFIX)),
    ("onpexip", "long", "12a", True, rejects(PREFIX)),
    ("onpexip", "long", "8000", True, rejects(PREFIX)),
    ("onpexip", "long", "8999", True, rejects(PREFIX)),
    ("onpexip", "long", "7999", True, rejects(PREFIX)),
    ("onpexip", "long", " 42 ", True, rejects(PREFIX)),
    # customer's own domain: the same rules as an onpexip.com subdomain
    ("own", "short", "", False, accepts(SHORT_IDS)),
    ("own", "short", "1", False, accepts(SHORT_IDS)),
    ("own", "short", "1234", False, accepts(SHORT_IDS)),
    ("own", "short", "12345", False, rejects(PREFIX)),
    ("own", "short", "12a", False, rejects(PREFIX)),
    ("own", "short", "8000", False, accepts(SHORT_IDS)),
    ("own", "short", "8999", False, accepts(SHORT_IDS)),
    ("own", "short", "7999", False, accepts(SHORT_IDS)),
    ("own", "short", " 42 ", False, accepts(SHORT_IDS)),
    ("own", "short", "", True, accepts(SHORT_IDS)),
    ("own", "short", "1", True, accepts(SHORT_IDS)),
    ("own", "short", "1234", True, accepts(SHORT_IDS)),
    ("own", "short", "12345", True, rejects(PREFIX)),
    ("own", "short", "12a", True, rejects(PREFIX)),
    ("own", "short", "8000", True, accepts(SHORT_IDS)),
    ("own", "short", "8999", True, accepts(SHORT_IDS)),
    ("own", "short", "7999", True, accepts(SHORT_IDS)),
    ("own", "short", " 42 ", True, accepts(SHORT_IDS)),
    ("own", "long", "", False, accepts()),
    ("own", "long", "1", False, rejects(PREFIX)),
    ("own", "long", "1234", False, rejects(PREFIX)),
    ("own", "long", "12345", False, rejects(PREFIX)),
    ("own", "long", "12a", False, rejects(PREFIX)),
    ("own", "long", "8000", False, rejects(PREFIX)),
    ("own", "long", "8999", False, rejects(PREFIX)),
    ("own", "long", "7999", False, rejects(PREFIX)),
    ("own", "long", " 42 ", False, rejects(PREFIX)),
    ("own", "long", "", True, accepts()),
    ("own", "long", "1", True, rejects(PREFIX)),
    ("own", "long", "1234", True, rejects(PREFIX)),
    ("own", "long", "12345", True, rejects(PREFIX)),
    ("own", "long", "12a", True, rejects(PREFIX)),
    ("own", "long", "8000", True, rejects(PREFIX)),
    ("own", "long", "8999", True, rejects(PREFIX)),
    ("own", "long", "7999", True, rejects(PREFIX)),
    ("own", "long", " 42 ", True, rejects(PREFIX)),
]


def outcome(option, length, prefix, sfb, previous_prefix=None):
    try:
        warnings = calling_domains.validate_meeting_settings(
            option=option,
            meeting_id_length=length,
            prefix=prefix,
            sfb_additional_gateway=sfb,
            previous_prefix=previous_prefix,
        )
    except ValidationError as exc:
        return rejects(*exc.message_dict)
    return accepts(*(warning.code for warning in warnings))


def messages_for(option, length, prefix, sfb=False, previous_prefix=None):
    with pytest.raises(ValidationError) as caught:
        calling_domains.validate_meeting_settings(
            option=option,
            meeting_id_length=length,
            prefix=prefix,
            sfb_additional_gateway=sfb,
            previous_prefix=previous_prefix,
        )
    return " ".join(caught.value.messages)


def test_the_meeting_settings_table_covers_every_combination_once():
    combinations = [row[:4] for row in MEETING_SETTINGS]

    expected = itertools.product(OPTIONS, LENGTHS, PREFIXES, (False, True))
    assert sorted(combinations) == sorted(expected)


@pytest.mark.parametrize(("option", "length", "prefix", "sfb", "expected"), MEETING_SETTINGS)
def test_meeting_settings_follow_the_table(option, length, prefix, sfb, expected):
    assert outcome(option, length, prefix, sfb) == expected


@pytest.mark.parametrize(
    ("option", "length", "prefix", "sfb", "phrase"),
    [
        ("own", "short", "12a", False, "digits only"),
        ("own", "short", "12345", False, "1 to 4 digits"),
        ("own", "long", "12", False, "Long meeting IDs take no prefix"),
        ("shared", "short", "7999", False, "from 8000-8999; leave the prefix blank"),
        ("shared", "long", "", False, "supports short meeting IDs only"),
        ("shared", "short", "", True, "leave the additional Skype for Business gateway off"),
        ("own", "medium", "", False, "Choose short or long meeting IDs"),
        ("teams", "long", "", False, "Choose a calling-domain option"),
    ],
)
def test_meeting_settings_errors_tell_staff_what_to_change(option, length, prefix, sfb, phrase):
    assert phrase in messages_for(option, length, prefix, sfb)


def test_an_unknown_option_or_length_is_refused_on_its_own_field():
    assert outcome("teams", "medium", "", False) == rejects("option", LENGTH)


def test_a_shared_prefix_that_stays_the_same_is_accepted():
    assert outcome("shared", "short", "8123", False, previous_prefix="8123") == accepts(LEGACY)


@pytest.mark.parametrize("new_prefix", ["8124", "", "12a"])
def test_a_shared_prefix_never_changes_once_allocated(new_prefix):
    assert "never changes once allocated; it stays 8123" in messages_for(
        "shared", "short", new_prefix, previous_prefix="8123"
    )


@pytest.mark.parametrize("option", ["onpexip", "own"])
def test_staff_may_change_the_prefix_of_other_domains(option):
    assert outcome(option, "short", "34", False, previous_prefix="12") == accepts(SHORT_IDS)


# Domain names -----------------------------------------------------------------------------------

LABEL_63 = "a" * 63
NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
NAME_254 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 62])


def test_the_length_fixtures_have_the_lengths_they_claim():
    assert (len(LABEL_63), len(NAME_253), len(NAME_254)) == (63, 253, 254)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Video.Example.COM", "video.example.com"),
        ("video.example.com.", "video.example.com"),
        ("  video.example.com\t", "video.example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("ÉCOLE.example", "xn--cole-9oa.example"),
        ("\uff36\uff29\uff24\uff25\uff2f.example", "video.example"),  # full-width VIDEO
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.EXAMPLE.", "xn--bcher-kva.example"),
        ("a-b.example", "a-b.example"),
        ("123.example", "123.example"),
        ("example.xn--p1ai", "example.xn--p1ai"),
        (LABEL_63 + ".example", LABEL_63 + ".example"),
        (NAME_253, NAME_253),
        (NAME_253 + ".", NAME_253),
    ],
)
def test_domain_names_are_stored_lower_case_ascii_without_trailing_dot(raw, stored):
    assert domain_names.normalize_domain_name(raw) == stored


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("", "Enter a domain name, for example"),
        ("   ", "Enter a domain name, for example"),
        (None, "Enter a domain name, for example"),
        ("192.0.2.1", "is an IP address; enter a domain name"),
        ("192.0.2.1.", "is an IP address; enter a domain name"),
        ("2001:db8::1", "is an IP address; enter a domain name"),
        ("[::1]", "is an IP address; enter a domain name"),
        ("::1", "is an IP address; enter a domain name"),
        ("video example.com", "cannot contain spaces"),
        ("video.exam\tple.com", "cannot contain spaces"),
        ("-video.example.com", "do not start or end a part with a hyphen"),
        ("video-.example.com", "do not start or end a part with a hyphen"),
        ("_sips._tcp.example.com", "use letters, digits and hyphens"),
        ("video_1.example.com", "use letters, digits and hyphens"),
        ("localhost", "Enter a full domain name with a dot"),
        ("bücher", "Enter a full domain name with a dot"),
        ("example.123", "last part of a domain name cannot be all digits"),
        ("video..example.com", "cannot have two dots in a row"),
        (".example.com", "cannot have two dots in a row or start with one"),
        ("example.com..", "cannot have two dots in a row"),
        ("a" * 64 + ".example", "at most 63 characters"),
        (NAME_254, "at most 253 characters; this one has 254"),
        ("☃.example", "not a valid internationalised domain name"),
        ("a\u200d.example", "not a valid internationalised domain name"),
        ("b" * 60 + "ü.example", "not a valid internationalised domain name"),
        ("xn--zz.example", "is not a valid encoded (xn--) label"),
        ("xn--a.example", "is not a valid encoded (xn--) label"),
    ],
)
def test_invalid_domain_names_are_refused_with_what_to_do(raw, phrase):
    with pytest.raises(ValidationError) as caught:
        domain_names.normalize_domain_name(raw)

    assert phrase in " ".join(caught.value.messages)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Video.Example.com.", "video.example.com"),
        ("notpexip.me", "notpexip.me"),
        ("pexip.me.example.com", "pexip.me.example.com"),
        ("myonpexip.com", "myonpexip.com"),
    ],
)
def test_an_own_domain_is_any_valid_name_outside_the_providers(raw, stored):
    assert domain_names.normalize_own_domain(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["pexip.me", "gmeet.pexip.me", "onpexip.com", "x.onpexip.com", "a.pexip.me", "PEXIP.ME."],
)
def test_the_providers_domains_are_refused_as_own_domains(raw):
    with pytest.raises(ValidationError) as caught:
        domain_names.normalize_own_domain(raw)

    assert (
        "belongs to the provider; an own domain must be the customer's" in caught.value.messages[0]
    )


def test_an_own_domain_must_still_be_a_valid_name():
    with pytest.raises(ValidationError, match="IP address"):
        domain_names.normalize_own_domain("192.0.2.1")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("acme", "acme.onpexip.com"),
        ("acme.onpexip.com", "acme.onpexip.com"),
        ("Acme", "acme.onpexip.com"),
        (" ACME.ONPEXIP.COM. ", "acme.onpexip.com"),
        ("acme-2", "acme-2.onpexip.com"),
        ("42", "42.onpexip.com"),
        (LABEL_63, LABEL_63 + ".onpexip.com"),
    ],
)
def test_an_onpexip_subdomain_is_one_label_under_onpexip_com(raw, stored):
    assert domain_names.normalize_onpexip_subdomain(raw) == stored


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("", "Enter the subdomain label, for example acme"),
        ("a.b.onpexip.com", "exactly one label"),
        ("acme.example.com", "exactly one label"),
        ("onpexip.com", "exactly one label"),
        ("ac_me", "exactly one label"),
        ("ac me", "exactly one label"),
        ("-acme", "exactly one label"),
        ("acme-", "exactly one label"),
        ("a" * 64, "exactly one label"),
        ("bücher", "exactly one label"),
        ("\u212acme", "exactly one label"),  # KELVIN SIGN, which lower() turns into "k"
        ("acme\n.", "exactly one label"),
        ("acme\n.onpexip.com", "exactly one label"),
        ("xn--bcher-kva", "cannot be an encoded (xn--) label"),
    ],
)
def test_invalid_onpexip_subdomains_are_refused(raw, phrase):
    with pytest.raises(ValidationError) as caught:
        domain_names.normalize_onpexip_subdomain(raw)

    assert phrase in caught.value.messages[0]


@pytest.mark.parametrize(
    ("option", "raw", "stored"),
    [
        ("shared", "", "gmeet.pexip.me"),
        ("shared", "gmeet.pexip.me", "gmeet.pexip.me"),
        ("shared", " GMEET.Pexip.ME. ", "gmeet.pexip.me"),
        ("onpexip", "Acme", "acme.onpexip.com"),
        ("own", "Video.Example.COM.", "video.example.com"),
        ("own", "Bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_the_calling_domain_is_normalised_by_its_option(option, raw, stored):
    assert calling_domains.normalize_calling_domain(option, raw) == stored


@pytest.mark.parametrize(
    ("option", "raw", "phrase"),
    [
        ("shared", "acme.onpexip.com", "leave the domain blank or choose another option"),
        ("shared", "pexip.me", "leave the domain blank or choose another option"),
        ("onpexip", "a.b.onpexip.com", "exactly one label"),
        ("own", "gmeet.pexip.me", "belongs to the provider"),
        ("own", "", "Enter a domain name"),
        ("", "video.example.com", "Choose a calling-domain option"),
    ],
)
def test_a_calling_domain_that_does_not_fit_its_option_is_refused(option, raw, phrase):
    with pytest.raises(ValidationError) as caught:
        calling_domains.normalize_calling_domain(option, raw)

    assert phrase in caught.value.messages[0]


# Whole-tenant rules ------------------------------------------------------------------------------


def test_calling_and_teams_domains_that_differ_do_not_clash():
    calling_domains.check_teams_clash(
        calling_domains=["acme.onpexip.com"], teams_domains=["acme.example"]
    )


def test_a_teams_interop_domain_cannot_also_be_a_calling_domain():
    with pytest.raises(ValidationError) as caught:
        calling_domains.check_teams_clash(
            calling_domains=["video.acme.example", "acme.onpexip.com"],
            teams_domains=["video.acme.example", "teams.acme.example"],
        )

    message = caught.value.messages[0]
    assert message.startswith("video.acme.example is recorded as a Teams video interop domain")
    assert "Remove it from one of the two lists" in message


def test_every_clashing_domain_is_named_in_order():
    with pytest.raises(ValidationError) as caught:
        calling_domains.check_teams_clash(
            calling_domains=["c.example", "b.example"], teams_domains=["b.example", "c.example"]
        )

    assert caught.value.messages[0].startswith("b.example, c.example is recorded")


def test_distinct_calling_domains_are_accepted():
    calling_domains.check_no_repeated_domains(["acme.onpexip.com", "video.acme.example"])


def test_a_calling_domain_listed_twice_is_refused():
    with pytest.raises(ValidationError, match=r"video\.acme\.example is listed twice"):
        calling_domains.check_no_repeated_domains(
            ["video.acme.example", "x.example", "video.acme.example"]
        )


@pytest.mark.parametrize(
    ("scope", "units"),
    [("whole", []), ("whole", ["", "  "]), ("selected", ["/Sales"]), ("selected", ["a@b.example"])],
)
def test_a_consistent_access_scope_is_accepted(scope, units):
    calling_domains.validate_access_scope(scope=scope, units=units)


@pytest.mark.parametrize(
    ("scope", "units", "phrase"),
    [
        ("selected", [], "List at least one organisational unit or group"),
        ("selected", ["  "], "List at least one organisational unit or group"),
        ("whole", ["/Sales"], "Clear the list of units and groups"),
    ],
)
def test_an_inconsistent_access_scope_is_refused_on_the_units_field(scope, units, phrase):
    with pytest.raises(ValidationError) as caught:
        calling_domains.validate_access_scope(scope=scope, units=units)

    assert phrase in caught.value.message_dict["access_scope_units"][0]


@pytest.mark.parametrize(
    ("option", "length", "codes"),
    [
        ("shared", "short", [LEGACY]),
        ("onpexip", "short", [SHORT_IDS]),
        ("own", "short", [SHORT_IDS]),
        ("onpexip", "long", []),
        ("own", "long", []),
    ],
)
def test_deprecated_choices_carry_a_warning(option, length, codes):
    warnings = calling_domains.deprecation_warnings(option=option, meeting_id_length=length)

    assert [warning.code for warning in warnings] == codes
    assert all(warning.message for warning in warnings)


@pytest.mark.parametrize(
    ("option", "sfb", "phrase"),
    [
        ("shared", False, "Leave 'Provide an additional gateway for Skype for Business users' "),
        ("shared", True, "Leave 'Provide an additional gateway for Skype for Business users' "),
        ("onpexip", True, "Tick 'Provide an additional gateway for Skype for Business users' and "),
        ("own", True, "Tick 'Provide an additional gateway for Skype for Business users' and "),
        ("onpexip", False, ""),
        ("own", False, ""),
    ],
)
def test_the_sfb_instruction_says_whether_to_tick_the_box(option, sfb, phrase):
    assert calling_domains.sfb_instruction(option=option, sfb_additional_gateway=sfb).startswith(
        phrase
    )


@pytest.mark.parametrize(
    ("option", "sfb", "applies"),
    [("shared", False, True), ("onpexip", True, True), ("own", False, False)],
)
def test_sfb_applies_to_the_shared_domain_and_to_domains_with_the_sfb_gateway(option, sfb, applies):
    assert calling_domains.sfb_applies(option=option, sfb_additional_gateway=sfb) is applies
    instruction = calling_domains.sfb_instruction(option=option, sfb_additional_gateway=sfb)
    assert bool(instruction) is applies


@pytest.mark.parametrize(("option", "mentions_pexip_me"), [("own", True), ("shared", False)])
def test_only_a_ticked_sfb_box_names_the_sfb_hostname(option, mentions_pexip_me):
    instruction = calling_domains.sfb_instruction(option=option, sfb_additional_gateway=True)

    assert ("enter the hostname pexip.me" in instruction) is mentions_pexip_me


@pytest.mark.parametrize(
    ("domain", "length", "prefix", "dial_string"),
    [
        ("acme.onpexip.com", "long", "", "1234567890123@acme.onpexip.com"),
        ("gmeet.pexip.me", "short", "8123", "81231234@gmeet.pexip.me"),
        ("video.example.com", "short", "42", "421234@video.example.com"),
        ("video.example.com", "short", "", "1234@video.example.com"),
    ],
)
def test_the_example_dial_string_matches_the_meeting_id_length(domain, length, prefix, dial_string):
    assert (
        calling_domains.example_dial_string(domain=domain, meeting_id_length=length, prefix=prefix)
        == dial_string
    )


def test_long_meeting_ids_dial_13_digits():
    dial_string = calling_domains.example_dial_string(
        domain="a.example", meeting_id_length="long", prefix=""
    )

    assert re.fullmatch(r"[0-9]{13}@a\.example", dial_string)


# Properties: no input is anything worse than a ValidationError ---------------------------------

# ASCII name characters, separators and whitespace, plus IDN letters, KELVIN SIGN, the
# ideographic full stop, ZERO WIDTH JOINER and an Arabic-Indic digit.
DOMAINISH = st.text(alphabet="abcXYZ019-_. \n\t.üÉßς\u212a\u3002\u200d\u0663", max_size=40)
LABELS = st.lists(st.from_regex(r"[a-zA-Z0-9ü-]{1,64}", fullmatch=True), min_size=1, max_size=5)
DOMAIN_INPUTS = st.one_of(st.text(), DOMAINISH, LABELS.map(".".join))
LDH = re.compile(r"[a-z0-9-]+")


def assert_is_a_stored_domain_name(name):
    assert name.isascii()
    assert name == name.lower()
    assert len(name) <= 253
    assert not name.endswith(".")
    for label in name.split("."):
        assert 1 <= len(label) <= 63
        assert LDH.fullmatch(label), label


@given(DOMAIN_INPUTS)
@example("Bücher.example")
@example("\uff21\uff22\uff23.example.")  # full-width ABC
@example("a\n.example")
def test_a_domain_name_is_refused_or_stored_in_one_canonical_form(raw):
    try:
        name = domain_names.normalize_domain_name(raw)
    except ValidationError:
        return

    assert_is_a_stored_domain_name(name)
    assert domain_names.normalize_domain_name(name) == name


@given(st.one_of(st.text(), DOMAINISH, LABELS.map(".".join), DOMAINISH.map(lambda s: s + ".")))
@example("Acme.onpexip.com.")
@example("acme\n.")
def test_an_onpexip_subdomain_is_refused_or_stored_in_one_canonical_form(raw):
    try:
        name = domain_names.normalize_onpexip_subdomain(raw)
    except ValidationError:
        return

    assert_is_a_stored_domain_name(name)
    assert name.count(".") == 2
    assert name.endswith(".onpexip.com")
    assert domain_names.normalize_onpexip_subdomain(name) == name


PREFIX_INPUTS = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 \n\u0663\uff18a", max_size=6),
    st.integers(min_value=0, max_value=99999).map(str),
)


@given(
    prefix=PREFIX_INPUTS,
    option=st.sampled_from(OPTIONS),
    length=st.sampled_from(LENGTHS),
    sfb=st.booleans(),
)
@example(prefix="8000\n", option="shared", length="short", sfb=False)
@example(prefix="\u0668\u0660\u0660\u0660", option="shared", length="short", sfb=False)
@example(prefix="\uff18\uff10\uff10\uff10", option="own", length="short", sfb=False)
def test_an_accepted_prefix_is_always_one_the_table_allows(prefix, option, length, sfb):
    try:
        calling_domains.validate_meeting_settings(
            option=option, meeting_id_length=length, prefix=prefix, sfb_additional_gateway=sfb
        )
    except ValidationError:
        return

    stored = calling_domains.normalize_prefix(prefix)
    assert re.fullmatch(r"[0-9]{0,4}", stored)
    assert length == "short" or stored == ""
    assert option != "shared" or stored == "" or 8000 <= int(stored) <= 8999


@pytest.mark.parametrize(
    ("option", "chosen", "expected"),
    [
        ("shared", "long", "short"),
        ("shared", "short", "short"),
        ("onpexip", "long", "long"),
        ("onpexip", "short", "short"),
        ("own", "long", "long"),
        ("own", "short", "short"),
    ],
)
def test_choosing_the_shared_domain_sets_short_ids_for_a_new_domain(option, chosen, expected):
    assert calling_domains.meeting_id_length_for_new(option=option, chosen=chosen) == expected
