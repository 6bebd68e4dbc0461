"""Pydantic schemas for rule files and lexicon files.

Rules are data, not code: every knob an editor may turn lives here with
``extra="forbid"`` so a typo in a YAML key is an error instead of a silently
ignored setting.  The engine only ever sees these validated models (after
``compiler.py`` turns their regex strings into compiled patterns).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from extractors.model import Direction, Unit

ActorSide = Literal["before", "after", "parties", "victim", "none"]
TargetSide = Literal["after", "to", "on", "object", "loser", "before", "none"]
WeaponMode = Literal["required", "optional", "none"]


class Strict(BaseModel):
    """Base: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Trigger(Strict):
    """What makes a sentence a candidate.

    ``words`` are literal words or phrases (case-insensitive, whole words; write
    every inflection you want, there is no stemmer).  ``regex`` are Python
    regular expressions searched case-insensitively.  At least one is needed.
    """

    words: list[str] = Field(default_factory=list)
    regex: list[str] = Field(default_factory=list)


class QuantityHint(Strict):
    """How to read the number an event carries.

    ``nouns`` is a regex for the counted noun that must follow the number within
    ``max_gap`` words ("12,000 troops", "4,000 of the North Korean soldiers");
    an empty ``nouns`` accepts a bare number next to the trigger ("34 dead").
    """

    unit: Unit
    nouns: str = ""
    max_gap: int = 4
    bare_near_trigger: bool = False


class Slots(Strict):
    """Where the slots of an event stand relative to its trigger."""

    actor: ActorSide = "before"
    passive_actor: Literal["by", "subject"] = "by"
    target: TargetSide = "after"
    location: bool = True
    quantity: list[QuantityHint] = Field(default_factory=list)
    weapon: WeaponMode = "none"
    direction: Direction | None = None
    date: bool = True
    require_actor: bool = False
    require_target: bool = False
    require_location: bool = False
    location_after_trigger: bool = False
    denier: Literal["actor", "target", "none"] = "actor"
    require_quantity: bool = False
    date_anchors: bool = Field(default=False,
                               description="a stated date alone anchors the event ('the September 11, 2001 attacks')")
    default_quantity: int | None = Field(default=None, ge=0,
                                         description="count when none is written: a named person killed is 1")
    location_within: int | None = Field(default=None, ge=0, description="max words between trigger and place")
    actor_within: int | None = Field(default=None, ge=0,
                                     description="max chars between doer and trigger (nominal triggers: 'Israeli air raids')")
    distinct_parties: bool = False
    coordinate: bool = True


class Example(Strict):
    """An inline test: ``text`` must produce an event of this rule's file type
    whose slots include ``expect`` (a subset of Event fields)."""

    text: str
    published: dt.date | None = None
    expect: dict[str, Any] = Field(default_factory=dict)


class Rule(Strict):
    """One trigger family of one event type."""

    id: str = Field(min_length=1)
    version: int = Field(ge=1)
    description: str | None = None
    trigger: Trigger
    requires: list[str] = Field(
        default_factory=list,
        description="regexes; at least one must match within requires_window chars of the trigger",
    )
    requires_window: int = Field(default=80, ge=0)
    exclude: list[str] = Field(
        default_factory=list,
        description="regexes; a sentence matching any of them yields nothing from this rule",
    )
    exclude_window: int | None = Field(
        default=None, ge=0,
        description="if set, exclude patterns only count within this many chars of the trigger",
    )
    slots: Slots = Field(default_factory=Slots)
    confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    match: list[Example] = Field(default_factory=list)
    no_match: list[str] = Field(default_factory=list)


class RuleFile(Strict):
    """One YAML file = one event type."""

    type: str
    description: str | None = None
    rules: list[Rule] = Field(min_length=1)


# ---------------------------------------------------------------- lexicons


class StateEntry(Strict):
    """Everything that names one state (ISO alpha-3 key in actors.yaml)."""

    names: list[str] = Field(default_factory=list)
    demonyms: list[str] = Field(default_factory=list)
    capitals: list[str] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list)
    orgs: list[str] = Field(default_factory=list)


class GroupEntry(Strict):
    """A non-state armed group: kept by name, actor code stays null."""

    name: str
    aliases: list[str] = Field(default_factory=list)


class ActorsLexicon(Strict):
    states: dict[str, StateEntry] = Field(default_factory=dict)
    groups: list[GroupEntry] = Field(default_factory=list)
    ignore: list[str] = Field(
        default_factory=list, description="pycountry-derived names never to match"
    )
    international: list[str] = Field(
        default_factory=list,
        description="international bodies (UN, NATO, EU...) kept by name, actor null",
    )


class PlaceEntry(Strict):
    country: str | None = None
    aliases: list[str] = Field(default_factory=list)


class PlacesLexicon(Strict):
    places: dict[str, PlaceEntry] = Field(default_factory=dict)
    city_min_population: int = 150000
    city_stopwords: list[str] = Field(default_factory=list)


class WeaponName(Strict):
    pattern: str
    weapon_class: str


class WeaponsLexicon(Strict):
    classes: dict[str, list[str]] = Field(default_factory=dict)
    names: list[WeaponName] = Field(default_factory=list)


class CuesLexicon(Strict):
    """Context cue words (status, negation, modality) as regex fragments."""

    speech_verbs: list[str]
    negators: list[str]
    modal_capability: list[str]
    modal_planned: list[str]
    threat: list[str]
    conditional: list[str]
    generic: list[str]
    denial: list[str]
    person_titles: list[str] = Field(default_factory=list)
    force_nouns: list[str] = Field(default_factory=list)
    org_heads: list[str] = Field(default_factory=list)
