"""The event contract (``shared/spec/events.md``) as typed models.

Every other part of Muster speaks in these models: the extractors produce
``Event`` objects, the warehouse stores them column for column and
``muster extract`` serialises them.  Field names are the contract's names and
must never be renamed; new fields may be added at the end.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal[
    "military_deployment",
    "weapons_unveiling",
    "weapons_test",
    "attack",
    "territorial_control",
    "casualties",
    "agreement",
    "arms_transfer",
    "condemnation",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]

Unit = Literal["troops", "tons", "killed", "injured", "killed_or_injured", "units"]
Qualifier = Literal["exact", "approx", "upper", "lower"]
Precision = Literal["day", "month", "season", "year"]
Status = Literal["asserted", "reported", "claimed", "denied", "planned"]
Direction = Literal["deploy", "withdraw"]


class Event(BaseModel):
    """One event, exactly the fields of the contract plus provenance extras."""

    model_config = ConfigDict(extra="forbid")

    type: EventType
    actor: str | None = None
    actor_name: str | None = None
    target: str | None = None
    target_name: str | None = None
    location: str | None = None
    location_country: str | None = None
    quantity: int | None = None
    unit: Unit | None = None
    quantity_qualifier: Qualifier | None = None
    weapon_class: str | None = None
    weapon_name: str | None = None
    direction: Direction | None = None
    date: str | None = Field(default=None, description="ISO date, YYYY-MM-DD")
    date_precision: Precision | None = None
    status: Status = "asserted"
    attributed_to: str | None = None
    sentence: str
    char_start: int
    char_end: int
    rule_id: str
    confidence: float = Field(ge=0.0, le=1.0, default=0.5)
    # --- additions (allowed by the contract: may add, never rename) ---
    rule_version: int = 1


class Document(BaseModel):
    """One ``muster extract`` input line."""

    model_config = ConfigDict(extra="ignore")

    doc_id: str
    text: str
    published: str | None = None
    title: str | None = None
