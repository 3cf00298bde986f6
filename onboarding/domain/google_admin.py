"""Google Admin's own labels, quoted word for word by every email and page that tells a customer
where to click (domain.md, "The journey", step 4). One home, so that when Google renames a menu
the portal changes in one place and never says two different things."""

from __future__ import annotations

from dataclasses import dataclass

CONSOLE_HOST = "admin.google.com"
MEET_SETTINGS = "Apps > Google Workspace > Google Meet"
# where the values go: a page, and a section on it
VIDEO_SETTINGS_PATH = f"{MEET_SETTINGS} > Meet video settings > Gateway Interoperability"
INTEROPERABILITY_SECTION = "Interoperability"
ALLOW_INTEROPERABILITY = "Allow interoperability with other systems"
USE_LONG_MEETING_IDS = "Use long meeting IDs"
USE_SHORT_MEETING_IDS = "Use short meeting IDs"
SFB_ADDITIONAL_GATEWAY = "Provide an additional gateway for Skype for Business users"
# where the token is made, in current consoles
TOKENS_PATH = f"{MEET_SETTINGS} > Interoperability tokens"
ADD_TOKEN = "Add a token"  # noqa: S105 (a button label)
TOKEN_TYPE = "Pexip"  # noqa: S105 (the token type Google Admin lists, not a secret)
SUGGESTED_TOKEN_NAME = "PexipInterop"  # noqa: S105 (a label)
TRUSTED_AT_CREATION = "Trusted device"
TRUSTED_IN_LIST = "Trusted devices"
TURN_ON = "Turn on"
# where the token is made in older consoles: untrusted by default there
OLDER_TOKENS_PATH = f"{MEET_SETTINGS} > Gateways for Interoperability"
OLDER_ADD_GATEWAY = "Add Gateway"
OLDER_GENERATE = "Generate"
# Google's help on limiting a service to organisational units or groups
ACCESS_SCOPE_HELP_URL = "https://support.google.com/a/answer/9493952"


def meeting_id_choice(*, short: bool) -> str:
    """The radio choice Google Admin offers for a meeting ID length."""
    return USE_SHORT_MEETING_IDS if short else USE_LONG_MEETING_IDS


@dataclass(frozen=True)
class GoogleAdminLabels:
    """The labels above as one object, for templates (`google.allow_interoperability`)."""

    console_host: str = CONSOLE_HOST
    video_settings_path: str = VIDEO_SETTINGS_PATH
    interoperability_section: str = INTEROPERABILITY_SECTION
    allow_interoperability: str = ALLOW_INTEROPERABILITY
    use_long_meeting_ids: str = USE_LONG_MEETING_IDS
    use_short_meeting_ids: str = USE_SHORT_MEETING_IDS
    sfb_additional_gateway: str = SFB_ADDITIONAL_GATEWAY
    tokens_path: str = TOKENS_PATH
    add_token: str = ADD_TOKEN
    token_type: str = TOKEN_TYPE
    suggested_token_name: str = SUGGESTED_TOKEN_NAME
    trusted_at_creation: str = TRUSTED_AT_CREATION
    trusted_in_list: str = TRUSTED_IN_LIST
    turn_on: str = TURN_ON
    older_tokens_path: str = OLDER_TOKENS_PATH
    older_add_gateway: str = OLDER_ADD_GATEWAY
    older_generate: str = OLDER_GENERATE
    access_scope_help_url: str = ACCESS_SCOPE_HELP_URL


LABELS = GoogleAdminLabels()
